"""File ▸ Connect to server…: the window's checkpoint dock and chain panel switch to a genviz server's models.

``RemoteController`` owns the connection (``genviz.remote.client.RemoteClient``, standard-library HTTP: the
desktop needs no Ray), the status bar's server label (server, its device, round-trip latency; the window's speed
label shows steps/s) and the swap of the chain panel's runner for a ``RemoteChainRunner``. All network calls run
on the window's engine thread, like every torch call in-process. A lost connection is one message; the GUI stays
up, a ping every ``PING_MS`` notices the server again and the chain goes on (or File ▸ Connect to server…).
"""
from __future__ import annotations

import os

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit

PING_MS = 2000
DEFAULT_URL = "http://127.0.0.1:8765"


class ConnectDialog(QDialog):
    """Asks for the server URL and its token (empty: ``GENVIZ_TOKEN`` or none)."""

    def __init__(self, url: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Connect to a genviz server")
        form = QFormLayout(self)
        self.url_edit = QLineEdit(url)
        self.token_edit = QLineEdit(os.environ.get("GENVIZ_TOKEN", ""))
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Server URL", self.url_edit)
        form.addRow("Token", self.token_edit)
        form.addRow(QLabel("A remote GPU box: ssh -N -L 8765:127.0.0.1:8765 user@gpu-box, then connect to\n"
                           f"{DEFAULT_URL} (genviz serve binds to 127.0.0.1 by default)."))
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)


class RemoteController(QObject):
    """The window's remote mode: connect, list the server's checkpoints, load one, ping, disconnect."""

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.client = None   # the engine thread's RemoteClient (calls of the chain runner and loads)
        self.pinger = None   # a second connection for the pings
        self.runner = None
        self.lost = False
        self.label = QLabel("")
        self.label.setVisible(False)
        window.statusBar().addPermanentWidget(self.label)
        fm = window.file_menu
        first = fm.actions()[0] if fm.actions() else None
        self.connect_action = fm.addAction("Connect to &server…", self.connect_dialog)
        self.disconnect_action = fm.addAction("Disconnect from server", self.disconnect_server)
        self.disconnect_action.setEnabled(False)
        if first is not None:
            for a in (self.connect_action, self.disconnect_action):
                fm.removeAction(a)
                fm.insertAction(first, a)
            fm.insertSeparator(first)
        self.timer = QTimer(self)
        self.timer.setInterval(PING_MS)
        self.timer.timeout.connect(self.ping)

    @property
    def connected(self) -> bool:
        """True while the window shows a server's checkpoints."""
        return self.client is not None

    # ---- connect ---------------------------------------------------------------------------------
    def connect_dialog(self) -> None:
        """File ▸ Connect to server…"""
        url = str(self.w.settings().value("server/url", DEFAULT_URL) or DEFAULT_URL)
        if self.client is not None:
            url = self.client.url
        d = ConnectDialog(url, self.w)
        if d.exec() == QDialog.DialogCode.Accepted:
            self.connect_to(d.url_edit.text().strip(), d.token_edit.text().strip() or None)

    def connect_to(self, url: str, token: str | None = None, on_done=None) -> None:
        """Connect to ``url`` (on the engine thread); the dock then lists the server's checkpoints. Connecting
        again to the same server after a lost connection resumes the chain."""
        from ..remote.client import RemoteClient
        try:
            client, pinger = RemoteClient(url, token), RemoteClient(url, token, timeout_s=5.0)
        except ValueError as e:
            self.w.show_message(str(e), True)
            return
        same = self.client is not None and self.client.url == client.url and self.runner is not None
        self.w.show_message(f"connecting to {client.url}…")

        def task():
            info = client.info()
            infos = client.checkpoints()
            resumed = self.runner.reconnect() if same else False
            return info, infos, resumed

        def done(res) -> None:
            info, infos, resumed = res
            if not same:
                self._drop_session()
                self.client = client
            self.pinger, self.lost = pinger, False
            self.device = info.get("device", "?")
            self.w.settings().setValue("server/url", client.url)
            self.w.browser.set_checkpoints(infos)
            self.w.browser.title_label.setText(f"<b>Checkpoints on {client.url}</b>")
            self.disconnect_action.setEnabled(True)
            self._show_label(client.last_rtt_s)
            self.timer.start()
            self.w.show_message(f"connected to {client.url} ({self.device}, {len(infos)} checkpoints)"
                                + (": the chain goes on" if resumed else ": pick a checkpoint in the dock"))
            if on_done:
                on_done()

        self.w.engine.submit(task, done, lambda m: self.w.show_message(f"could not connect to {client.url}: {m}", True))

    def _show_label(self, rtt_s) -> None:
        c = self.client
        if c is None:
            self.label.setVisible(False)
            return
        if self.lost:
            self.label.setText(f"server: <b>{c.url}</b> — <span style='color:#ff6b6b'>connection lost</span>")
        else:
            ms = f", {1000 * rtt_s:.0f} ms" if rtt_s is not None else ""
            self.label.setText(f"server: <b>{c.url}</b> ({self.device}{ms})")
        self.label.setVisible(True)

    def refresh(self) -> None:
        """The dock's Refresh: re-read the server's checkpoints."""
        c = self.client
        self.w.engine.submit(c.checkpoints, self.w.browser.set_checkpoints,
                             lambda m: self.w.show_message(f"could not list the server's checkpoints: {m}", True))

    # ---- load ------------------------------------------------------------------------------------
    def load(self, name_or_path: str, autorun=None) -> None:
        """Open ``name_or_path`` (a name or path the server serves) in a new server session; the chain panel's
        runner becomes a ``RemoteChainRunner`` for it."""
        from ..remote.gui_runner import RemoteChainRunner, remote_loaded
        w, client = self.w, self.client
        w._autorun_once = autorun
        w.loading = True
        w.show_message(f"loading {name_or_path} on {client.url}…")
        panel, old = w.chain_panel, self.runner

        def task():
            r = client.call("open", checkpoint=name_or_path)
            ld = remote_loaded(client, r["model"])
            runner = RemoteChainRunner(panel.state, client, r["session"])
            runner.set_model(ld)  # on the engine thread: no step runs meanwhile
            panel.runner, w.engine.stepper, self.runner = runner, runner, runner
            if old is not None:
                try:
                    client.call("close", session=old.session)
                except Exception:  # the old session times out on the server anyway
                    pass
            return ld

        w.engine.submit(task, lambda ld: w._loaded(ld, ld.model.name), w._load_failed)

    # ---- ping, lost connection ------------------------------------------------------------------------
    def ping(self) -> None:
        """Measure the round trip (status bar); notice a lost connection, and the server's return."""
        p, runner = self.pinger, self.runner
        if p is None or self.w.engine.pending() > 1:
            return
        from ..remote.client import ConnectionLost, RemoteError

        def task():
            try:
                if runner is not None:
                    p.call("ping", session=runner.session)
                else:
                    p.info()
            except ConnectionLost as e:
                return ("lost", str(e))
            except RemoteError as e:
                return ("refused", str(e))
            if runner is not None and runner.lost:
                return ("back", runner.reconnect())
            return ("ok", p.last_rtt_s)

        self.w.engine.submit(task, self._pinged)

    def _pinged(self, res) -> None:
        kind, v = res
        if kind == "lost":
            if not self.lost:
                self.w.show_message(f"{v}: the GUI stays up and reconnects when the server answers again", True)
            self.lost = True
        elif kind == "refused":
            self.w.show_message(f"server: {v}", True)
        elif kind == "back":
            self.lost = False
            self.w.show_message("reconnected: " + ("the chain goes on (Run or Step)" if v
                                                   else "the server lost this session: load the model again"))
        else:
            if self.lost:
                self.w.show_message(f"reconnected to {self.client.url}")
            self.lost = False
            self._show_label(v)
            return
        self._show_label(None)

    # ---- disconnect ------------------------------------------------------------------------------
    def _drop_session(self) -> None:
        runner, client = self.runner, self.client
        if runner is None:
            return
        self.runner = None

        def task():
            try:
                client.call("close", session=runner.session)
            except Exception:  # it times out on the server
                pass
        self.w.engine.submit(task)

    def disconnect_server(self) -> None:
        """Back to local checkpoints (the server's session is closed)."""
        from .chain_runner import ChainRunner
        if self.client is None:
            return
        url = self.client.url
        self.timer.stop()
        panel = self.w.chain_panel
        local = ChainRunner(panel.state)
        self._drop_session()

        def task():
            local.set_model(None)
            panel.runner = self.w.engine.stepper = local

        self.w.engine.submit(task)
        self.client = self.pinger = None
        self.disconnect_action.setEnabled(False)
        self.label.setVisible(False)
        self.w.browser.title_label.setText("<b>Bundled checkpoints</b>")
        self.w.refresh_checkpoints()
        self.w.show_message(f"disconnected from {url}: local checkpoints again")

    def shutdown(self) -> None:
        """The window closes: stop pinging and end the server session."""
        self.timer.stop()
        runner, p = self.runner, self.pinger
        self.runner = None
        if runner is not None and p is not None:
            try:
                p.call("close", session=runner.session)
            except Exception:  # it times out on the server
                pass
