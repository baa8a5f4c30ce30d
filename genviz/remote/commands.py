"""The command-line side of the remote backend: ``genviz serve``, ``genviz list --server``, ``genviz sample
--server`` and ``genviz gui --server`` (parsers and handlers; ``genviz.cli`` adds the lines and dispatches here).

Nothing here imports torch or Ray at import time (``genviz --help`` stays fast).
"""
from __future__ import annotations

import ipaddress
import json
import time


def add_server_options(p) -> None:
    """``--server URL`` and ``--token T`` for a client command."""
    p.add_argument("--server", metavar="URL", help="a genviz server (genviz serve), e.g. http://127.0.0.1:8765")
    p.add_argument("--token", metavar="T", help="the server's token (default: GENVIZ_TOKEN)")


def add_serve_parser(sub) -> None:
    """The ``genviz serve`` sub-command."""
    sv = sub.add_parser("serve", help="serve checkpoints to remote GUIs and CLIs (Ray Serve; pip install genviz[remote])")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other needs a token)")
    sv.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    sv.add_argument("--checkpoints", nargs="+", metavar="DIR", help="folders whose checkpoints are served "
                    "(default: the bundled checkpoints/)")
    sv.add_argument("--num-gpus", type=int, default=0, metavar="N", help="GPUs of the local Ray instance (default 0)")
    sv.add_argument("--address", metavar="ADDR", help="join this Ray cluster instead of starting one (e.g. auto)")
    sv.add_argument("--device", default="auto", help="torch device of the chain actors (default auto)")
    sv.add_argument("--token", metavar="T", help="token every request must carry (default: GENVIZ_TOKEN)")
    sv.add_argument("--timeout", type=float, default=120.0, metavar="S",
                    help="end the chains of a client silent for S seconds (default 120)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(a) -> int:
    """``genviz serve``: refuse a non-loopback host without a token before anything binds, then serve until Ctrl+C."""
    from ..commands import CLIError
    from .client import token_from
    token = token_from(a.token)
    if not _loopback(a.host) and not token:
        raise CLIError(f"--host {a.host} listens beyond this machine: give a token (--token T or GENVIZ_TOKEN)")
    if not 1 <= a.port <= 65535:
        raise CLIError(f"--port {a.port}: expected 1..65535")
    try:
        from . import server
    except ImportError as e:
        raise CLIError(f"genviz serve needs the remote extra: pip install \"genviz[remote]\" ({e})") from None
    try:
        url = server.start(a.host, a.port, a.checkpoints, token, a.num_gpus, a.address, a.device, a.timeout)
    except ValueError as e:
        raise CLIError(str(e)) from None
    print(f"genviz: serving on {url} (Ctrl+C stops)", flush=True)
    import signal

    def _stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _stop)  # `kill PID` shuts Serve and Ray down as Ctrl+C does
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def remote_list(a) -> int:
    """``genviz list --server URL``."""
    from .client import RemoteClient
    infos = RemoteClient(a.server, a.token).checkpoints()
    if a.json:
        print(json.dumps([dict(i.to_dict(), path=i.path) for i in infos], indent=2))
        return 0
    w = max([len(i.name) for i in infos] + [4]) + 2
    print(f"{'name':<{w}}{'family':<12}{'dataset':<14}{'shape':<14}{'size':>9}")
    for i in infos:
        if i.error:
            print(f"{i.name:<{w}}broken: {i.error}")
            continue
        print(f"{i.name:<{w}}{i.family:<12}{i.dataset:<14}{'x'.join(map(str, i.data_shape)):<14}{i.size_bytes / 1e6:>7.2f}MB")
    return 0


def remote_sample(a, out, params: dict) -> int:
    """``genviz sample CKPT --server URL``: the chain runs on the server (same code as the local command, so the
    same seed gives the same bits on the same device kind); the samples are written here."""
    from ..commands import CLIError
    from .client import RemoteClient
    if a.trajectory:
        raise CLIError("--trajectory is not available with --server (the chain's states stay on the server)")
    import numpy as np
    client = RemoteClient(a.server, a.token, timeout_s=3600)
    unit, sampler, steps, model = client.sample(a.checkpoint, a.sampler, a.steps, a.n, a.seed, params,
                                                device=getattr(a, "device", "auto"))
    try:
        if out.suffix.lower() == ".png":
            if len(model["data_shape"]) != 3:
                raise CLIError(f"{model['name']}: .png output needs an image model; use .npz")
            from ..backend.imaging import make_grid, save_png
            save_png(out, make_grid(unit, scale=2))
        else:
            np.savez(out, samples=unit)
    except OSError as e:
        raise CLIError(f"--out {a.out}: could not write ({e.strerror or e})") from None
    print(f"wrote {out} ({len(unit)} samples, {sampler}, {steps} steps, seed {a.seed}, on {client.url})")
    return 0
