"""``genviz bench``'s ``remote_vs_local_throughput_ratio``: the chain panel's steps/s through a local genviz server
(Ray Serve, the chain in a Ray actor, records over HTTP) / the same chain in-process.

Two windows in this process: one with mnist-ddpm loaded locally, one connected to a server started here on a free
port with the same checkpoint. They run the same chain (DDIM-50, eta 0, batch 16, seed 0) in alternating pairs;
the figure is the median of the pairs' ratios (a shared machine's speed drifts between runs).
"""
from __future__ import annotations

import socket
import statistics
import time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_remote(device: str = "cpu", repeats: int = 3, steps: int = 50, n: int = 16, smoke: bool = False) -> dict:
    """Steps/s of DDIM-``steps`` at batch ``n`` on mnist-ddpm from the chain panel: through a local server / local.

    Returns ``remote_vs_local_throughput_ratio`` (None with ``remote_note`` when Ray is not installed, or with
    ``smoke``: Ray's start-up alone takes ~15 s), the two rates, the round trip of one request and the server's
    start-up time. Raises RuntimeError when a chain does not finish.
    """
    if smoke:
        return {"remote_vs_local_throughput_ratio": None,
                "remote_note": "skipped with --smoke (Ray's start-up alone takes ~15 s; tests/remote covers the path)"}
    try:
        import ray  # noqa: F401

        from . import server
    except ImportError:
        return {"remote_vs_local_throughput_ratio": None,
                "remote_note": 'skipped: Ray is not installed (pip install "genviz[remote]")'}
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from ..gui.chain_runner import configure_torch
    from ..gui.main_window import MainWindow
    app = QApplication.instance() or QApplication([])
    configure_torch()
    t0 = time.perf_counter()
    url = server.start(port=_free_port(), device=device)
    t_start = time.perf_counter() - t0
    wins: list = []
    rtts: list = []
    try:
        local, remote = MainWindow(device=device), MainWindow(device=device)
        wins = [local, remote]
        for w in wins:
            w.resize(1440, 900)
            w.show()
        remote.remote.connect_to(url)
        _wait(app, lambda: remote.remote.connected, 60, "the server did not answer")
        for w in wins:
            done: dict = {}
            w.modelLoaded.connect(lambda ld, done=done: done.setdefault("ld", ld))
            w.load("mnist-ddpm")
            _wait(app, lambda done=done: "ld" in done, 180, "mnist-ddpm did not load")
        times: dict = {"local": [], "remote": []}
        for r in range(repeats + 1):  # round 0 warms up (traced network, first paints, the actor's first calls)
            for key, w in (("local", local), ("remote", remote)):
                p = w.chain_panel
                p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("ddim"))
                p.param_form.widgets["eta"].setValue(0.0)
                p.steps_spin.setValue(steps)
                p.batch_spin.setValue(n)
                p.seed_spin.setValue(0)
                p.reset()
                _wait(app, lambda p=p, w=w: p.state.status == "paused" and not w.engine.pending(), 60, "no chain")
                loop, end = QEventLoop(), list[float]()

                def tick(p=p, end=end, loop=loop):
                    if not end and (p.state.status in ("done", "stopped") or p.state.error):
                        end.append(time.perf_counter())
                        loop.quit()
                beat = QTimer()
                beat.setInterval(5)
                beat.timeout.connect(tick)
                beat.start()
                t = time.perf_counter()
                p.run()
                loop.exec()
                beat.stop()
                if p.state.status != "done":
                    raise RuntimeError(f"the {key} chain did not finish: {p.state.error or p.state.status}")
                if r > 0:
                    times[key].append(end[0] - t)
        from .client import RemoteClient
        c, rtts = RemoteClient(url), []
        sid = remote.chain_panel.runner.session
        for _ in range(20):  # one request through the proxy, the ingress and the chain actor, with nothing to do
            c.call("ping", session=sid)
            rtts.append(c.last_rtt_s)
    finally:
        for w in wins:
            w.close()
        app.processEvents()
        server.stop()
    ratios = [a / b for a, b in zip(times["local"], times["remote"])]
    rtt_ms = 1000 * statistics.median(rtts) if rtts else None
    return {"remote_vs_local_throughput_ratio": statistics.median(ratios),
            "remote_steps_per_s": steps / statistics.median(times["remote"]),
            "local_steps_per_s": steps / statistics.median(times["local"]),
            "remote_runs_ratio": [round(x, 3) for x in ratios], "remote_server_start_s": round(t_start, 1),
            "remote_ping_ms": rtt_ms}


def _wait(app, cond, timeout_s: float, what: str) -> None:
    t_end = time.time() + timeout_s
    while not cond():
        if time.time() > t_end:
            raise RuntimeError(what)
        app.processEvents()
        time.sleep(0.005)
