"""``genviz serve``'s server: Ray Serve ingress (FastAPI) in front of one Ray actor per chain session.

Every call is ``POST /api/<method>`` with a JSON body (``GET /api/info`` too), answered with JSON
(``genviz.remote.wire`` for arrays). When the server has a token, every request must carry
``Authorization: Bearer <token>`` (401 otherwise). Checkpoints are named by their listed name or a path inside
the served folders (403 for any other path) and loaded by the same no-code loader as everywhere.

Methods: ``info``, ``list``, ``open`` (load a checkpoint into a new ``ChainActor``: a Ray actor holding the model,
loaded once, and a ``ChainSession``), ``close``, ``new_chain``, ``branch``, ``step``, ``run``, ``pause``,
``cancel``, ``records`` (long poll: every record from an index on), ``latest`` (only the newest record: the
back-pressured live stream), ``state`` (a record's float32 state, for ``genviz sample``), ``sample`` (a whole
chain's final batch) and ``ping``. A session no request touched for ``timeout_s`` seconds (the client went away) is
cancelled and its actor killed.

Streaming uses long polls, not WebSockets: the desktop's PySide6-Essentials has no QtWebSockets, the standard
library has no WebSocket client, and a pull gives back-pressure by construction (the server never queues frames:
a client asks when it is ready and gets what exists then).
"""
import asyncio
import json
import logging
import os
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

SESSION_METHODS = ("describe", "new_chain", "branch", "step", "run", "pause", "cancel", "records", "latest", "ping")
DEFAULT_TIMEOUT_S = 120.0
MAX_SESSIONS = 32        # chain actors one server holds at a time (each is a process with its model)
OPEN_TIMEOUT_S = 300.0   # how long ``open`` waits for a chain actor to start and load its model


def _actor_class():
    import ray

    @ray.remote(max_concurrency=8)
    class ChainActor:
        """One chain session (``genviz.remote.session.ChainSession``) and its model, in its own Ray worker."""

        def __init__(self, path: str, device: str):
            self.error = None
            try:
                from .session import ChainSession
                self.s = ChainSession(path, device)
            except Exception as e:  # reported by the first call, as one line
                self.error = f"{path}: {e}" if str(path) not in str(e) else str(e)

        def call(self, method: str, kwargs: dict) -> bytes:
            """``method(**kwargs)``'s reply as JSON bytes (encoded here, passed through by the ingress untouched)."""
            import json
            return json.dumps(self._call(method, kwargs)).encode()

        def _call(self, method: str, kwargs: dict):
            if self.error:
                raise ValueError(self.error)
            if method == "ping":
                self.s.touch()
                return {"device": str(self.s.loaded.model.device), "status": self.s.state.status,
                        "steps_per_s": float(self.s.state.steps_per_s)}
            if method == "state":
                from .wire import array_to_wire
                return {"x": array_to_wire(self.s.state_array(**kwargs))}
            if method == "sample":
                from .session import sample_unit
                from .wire import array_to_wire
                with self.s._model_lock:
                    unit, sampler, steps = sample_unit(self.s.loaded.model, **kwargs)
                return {"samples": array_to_wire(unit), "sampler": sampler, "steps": steps}
            return getattr(self.s, method)(**kwargs)

        def close(self):
            if not self.error:
                self.s.close()

    return ChainActor


def _error(status: int, msg: str) -> JSONResponse:
    return JSONResponse({"error": msg}, status_code=status)


def _cause(e: BaseException) -> BaseException:
    c = getattr(e, "cause", None)
    return c if isinstance(c, BaseException) else e


def _line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def make_deployment(config: dict):
    """The Serve application for ``config`` (``folders``, ``token``, ``device``, ``gpus_per_chain``, ``timeout_s``)."""
    from ray import serve
    app = FastAPI(title="genviz")

    @serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=256)
    @serve.ingress(app)
    class Ingress:
        """Routes requests to chain-session actors; checks the token and the served folders."""

        def __init__(self, cfg: dict):
            from .catalog import Catalog
            self.cfg = dict(cfg)
            self.catalog = Catalog(cfg.get("folders"))
            self.sessions: dict = {}  # id -> [actor, last request time, timeout (s)]
            self.actor_cls = _actor_class()
            self._reaper: asyncio.Task | None = None

        async def _reap(self):
            timeout = float(self.cfg.get("timeout_s", DEFAULT_TIMEOUT_S))
            while True:
                await asyncio.sleep(min(1.0, timeout / 4))
                now = time.monotonic()
                for sid, (actor, last, limit) in list(self.sessions.items()):
                    if now - last > min(timeout, limit):
                        self.sessions.pop(sid, None)
                        await self._end(actor)

        async def _end(self, actor):
            import ray
            try:
                await asyncio.wait_for(actor.close.remote(), 10)
            except Exception:
                pass
            ray.kill(actor)

        @app.api_route("/api/{method}", methods=["GET", "POST"])
        async def api(self, method: str, request: Request):
            from .wire import TOKEN_HEADER, token_ok
            if not token_ok(self.cfg.get("token"), request.headers.get(TOKEN_HEADER)):
                return _error(401, "wrong or missing token (genviz --token T, or GENVIZ_TOKEN)")
            if self._reaper is None:
                self._reaper = asyncio.get_running_loop().create_task(self._reap())
            try:
                body = await request.json() if request.method == "POST" else {}
            except Exception:
                return _error(400, "the request body is not JSON")
            if not isinstance(body, dict):
                return _error(400, "the request body must be a JSON object")
            try:
                return await self._dispatch(method, body)
            except PermissionError as e:
                return _error(403, _line(e))
            except Exception as e:
                cause = _cause(e)
                if isinstance(cause, PermissionError):
                    return _error(403, _line(cause))
                return _error(400, _line(cause))

        async def _dispatch(self, method: str, body: dict):
            import torch
            if method == "info":
                return {"server": "genviz", "device": self.cfg.get("device_name") or
                        ("cuda" if torch.cuda.is_available() else "cpu"),
                        "folders": [str(f) for f in self.catalog.folders], "sessions": len(self.sessions),
                        "timeout_s": float(self.cfg.get("timeout_s", DEFAULT_TIMEOUT_S)), "time": time.time()}
            if method == "list":
                return {"checkpoints": [dict(i.to_dict(), path=i.path) for i in self.catalog.list()]}
            if method == "open":
                if len(self.sessions) >= MAX_SESSIONS:
                    return _error(429, f"the server holds {MAX_SESSIONS} sessions already: close one or wait for "
                                  "idle ones to time out")
                timeout = float(self.cfg.get("timeout_s", DEFAULT_TIMEOUT_S))
                path = self.catalog.resolve(str(body.get("checkpoint", "")))
                actor = self.actor_cls.options(num_cpus=0, num_gpus=float(self.cfg.get("gpus_per_chain", 0))).remote(
                    path, str(body.get("device") or self.cfg.get("device", "auto")))
                try:  # a chain actor waits for its GPU share: 8 per GPU
                    desc = json.loads(await asyncio.wait_for(actor.call.remote("describe", {}), OPEN_TIMEOUT_S))
                except asyncio.TimeoutError:
                    await self._end(actor)
                    return _error(503, f"no chain actor started within {OPEN_TIMEOUT_S:.0f} s (every GPU share "
                                  "taken, or the model is slow to load): try again later")
                except Exception:
                    await self._end(actor)
                    raise
                sid = uuid.uuid4().hex  # a client may ask for a shorter timeout than the server's (tests)
                self.sessions[sid] = [actor, time.monotonic(), float(body.get("timeout_s") or timeout)]
                return {"session": sid, "model": desc}
            sid = str(body.pop("session", ""))
            if sid not in self.sessions:
                return _error(404, "no such session on the server (it ended, or timed out): load the model again")
            entry = self.sessions[sid]
            entry[1] = time.monotonic()
            if method == "close":
                self.sessions.pop(sid, None)
                await self._end(entry[0])
                return {"closed": sid}
            if method not in SESSION_METHODS + ("state", "sample"):
                return _error(404, f"unknown method {method!r}")
            out = await entry[0].call.remote(method, body)
            entry[1] = time.monotonic()
            return Response(out, media_type="application/json")  # the actor's JSON, not re-encoded

    return Ingress.bind(config)  # type: ignore[attr-defined]


def start(host: str = "127.0.0.1", port: int = 8765, folders=None, token: str | None = None, num_gpus: int = 0,
          address: str | None = None, device: str = "auto", timeout_s: float = DEFAULT_TIMEOUT_S,
          num_cpus: int | None = None) -> str:
    """Start (or join, with ``address``) a Ray instance and serve genviz on ``host:port``; returns the URL.

    Chain actors ask Ray for ``1/8`` of a GPU each when ``num_gpus`` > 0 (up to eight chains share a GPU; more
    GPUs or machines are Ray's scheduling), none otherwise.
    Raises:
        ValueError: a checkpoint folder that does not exist.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Ray starts its workers at niceness 15: on a machine with other work the chain actors then got a fraction of the
    # CPU the in-process chain gets (0.74 of its steps/s here); a Ray instance started here runs them at 0, as the
    # GUI's engine thread runs (a joined cluster keeps its own setting)
    os.environ.setdefault("RAY_worker_niceness", "0")
    import ray
    from ray import serve

    from .catalog import Catalog
    Catalog(folders)  # bad folders fail here, before anything starts
    if not ray.is_initialized():
        if address:
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(num_gpus=int(num_gpus), num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING)
    quiet = {"log_level": "WARNING", "enable_access_log": False}  # a log line per request costs CPU at every step
    serve.start(http_options={"host": host, "port": int(port)}, logging_config=quiet)
    cfg = {"folders": [str(f) for f in folders] if folders else None, "token": token or None,
           "gpus_per_chain": 0.125 if num_gpus else 0.0, "device": device, "timeout_s": float(timeout_s)}
    serve.run(make_deployment(cfg), name="genviz", route_prefix="/", logging_config=quiet)
    return f"http://{host}:{int(port)}"


def stop() -> None:
    """Shut Serve and the Ray instance down (no raylet is left)."""
    import ray
    from ray import serve
    try:
        serve.shutdown()
    finally:
        ray.shutdown()
