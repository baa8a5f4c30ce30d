"""The client side of ``genviz serve`` (no Ray, no Qt): the standard library's ``http.client`` and JSON.

``RemoteClient`` keeps one HTTP/1.1 connection open (keep-alive, so a call is one round trip) and is meant for one
thread; the GUI uses one per thread. Errors come as ``RemoteError`` (the server refused: its one-line reason) or
``ConnectionLost`` (no answer: the server is down or unreachable).
"""
from __future__ import annotations

import http.client
import json
import os
import time
from urllib.parse import urlsplit


class RemoteError(ValueError):
    """The server answered with an error (bad request, wrong token, path outside the served folders...)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class ConnectionLost(ConnectionError):
    """The server did not answer (not running, unreachable, or the connection dropped)."""


def token_from(token: str | None) -> str | None:
    """``token``, else the ``GENVIZ_TOKEN`` environment variable, else None."""
    return token or os.environ.get("GENVIZ_TOKEN") or None


class RemoteClient:
    """Calls ``POST /api/<method>`` on a genviz server.

    Args:
        url: ``http://host:port`` (a trailing path is ignored).
        token: the server's token (default: ``GENVIZ_TOKEN``).
        timeout_s: socket timeout of one call (long polls add their wait).
    Raises:
        ValueError: a URL that is not ``http://host[:port]``.
    """

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 30.0):
        u = urlsplit(url if "://" in url else f"http://{url}")
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"{url}: expected a server URL http://HOST:PORT (use an SSH tunnel for a remote box)")
        self.url = f"http://{u.hostname}:{u.port or 80}"
        self.host, self.port = u.hostname, u.port or 80
        self.token = token_from(token)
        self.timeout_s = float(timeout_s)
        self._conn: http.client.HTTPConnection | None = None
        self.last_rtt_s: float | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        return self._conn

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def call(self, method: str, **body) -> dict:
        """One API call; returns the server's JSON object.

        Raises:
            RemoteError: the server refused (its message, one line).
            ConnectionLost: no answer from the server.
        """
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (0, 1):  # a kept-alive connection the server closed meanwhile: retry once on a new one
            conn = self._connection()
            t0 = time.perf_counter()
            try:
                conn.request("POST", f"/api/{method}", body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException) as e:
                self.close()
                if attempt == 0 and isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError,
                                                   ConnectionResetError)):
                    continue
                raise ConnectionLost(f"lost the connection to {self.url}: {e or type(e).__name__}") from None
            self.last_rtt_s = time.perf_counter() - t0
            break
        try:
            out = json.loads(raw.decode() or "{}")
        except ValueError:
            raise RemoteError(f"{self.url}: not a genviz server (status {resp.status}, no JSON)", resp.status) from None
        if resp.status != 200:
            msg = out.get("error") if isinstance(out, dict) else None
            raise RemoteError(str(msg or f"{self.url}: HTTP status {resp.status}"), resp.status)
        return out

    # ---- convenience -----------------------------------------------------------------------------
    def info(self) -> dict:
        """The server's device, folders and session count (also a ping: sets ``last_rtt_s``)."""
        return self.call("info")

    def checkpoints(self) -> list:
        """``CheckpointInfo`` of every served checkpoint (``path`` is the server's path)."""
        from ..backend.checkpoints import CheckpointInfo
        out = []
        for d in self.call("list")["checkpoints"]:
            out.append(CheckpointInfo(name=d["name"], family=d["family"], dataset=d.get("dataset", ""),
                                      data_shape=tuple(d.get("data_shape", ())), size_bytes=int(d.get("size_bytes", 0)),
                                      path=d.get("path", d["name"]), description=d.get("description", ""),
                                      error=d.get("error", "")))
        return out

    def sample(self, checkpoint: str, sampler, steps, n: int, seed: int, params: dict, device: str = "auto"):
        """A whole chain on the server; returns ``(samples float32 (N, ...), sampler, steps, model description)``."""
        from .wire import array_from_wire
        s = self.call("open", checkpoint=checkpoint, device=device)
        try:
            out = self.call("sample", session=s["session"], sampler=sampler, steps=steps, n=int(n), seed=int(seed),
                            params=dict(params))
        finally:
            try:
                self.call("close", session=s["session"])
            except (RemoteError, ConnectionLost):
                pass
        return array_from_wire(out["samples"]), out["sampler"], int(out["steps"]), s["model"]
