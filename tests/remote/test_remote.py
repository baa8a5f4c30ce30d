"""The remote backend end to end: one local Ray instance serving a tiny model for the whole module (Ray start-up is
slow), a client that starts, steps, runs, pauses, resumes, cancels and branches chains, the CLI's --server, the
Qt window connected to the server, and the refusals (token, paths). Skipped when the remote extra is missing."""
import json
import socket
import time
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("ray")
pytest.importorskip("fastapi")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Serve's own pydantic deprecations

TOKEN = "test-token-7f3"
META = {
    "name": "tiny", "family": "diffusion", "description": "tiny random UNet for the remote tests",
    "network": {"class": "UNet", "config": {"in_channels": 1, "base": 8, "mults": [1, 2], "blocks": 1,
                                            "attn_lowest": False, "dropout": 0.0}},
    "data": {"shape": [1, 8, 8], "range": [-1, 1], "dataset": "testset", "kind": "image"},
    "schedule": {"beta_schedule": "linear", "num_train_timesteps": 1000, "prediction_type": "epsilon"},
    "sampler": {"name": "ddim", "steps": 10, "eta": 0.0}, "training": {"recipe": "test"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A genviz server (local Ray, 2 CPUs) on a free port serving one folder with a tiny diffusion model."""
    import torch

    from genviz.backend import save_checkpoint
    from genviz.backend.nets.unet import UNet
    from genviz.remote import server
    d = tmp_path_factory.mktemp("served")
    torch.manual_seed(0)
    save_checkpoint(d / "tiny.safetensors", UNet(base=8, mults=[1, 2], blocks=1, attn_lowest=False).state_dict(), META)
    outside = tmp_path_factory.mktemp("outside")
    save_checkpoint(outside / "secret.safetensors", UNet(base=8, mults=[1, 2], blocks=1, attn_lowest=False).state_dict(),
                    META)
    url = server.start(port=_free_port(), folders=[d], token=TOKEN, num_cpus=2, timeout_s=60)
    yield SimpleNamespace(url=url, folder=d, ckpt=str(d / "tiny.safetensors"), outside=str(outside / "secret.safetensors"))
    server.stop()
    import ray
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def session(served):
    """A client and one open session on the tiny model (one Ray actor for the chain tests)."""
    from genviz.remote.client import RemoteClient
    c = RemoteClient(served.url, TOKEN)
    s = c.call("open", checkpoint="tiny")
    yield SimpleNamespace(client=c, sid=s["session"], model=s["model"])
    c.call("close", session=s["session"])


@pytest.fixture(scope="module")
def local(served):
    """The same checkpoint loaded in this process, with the GUI's ChainRunner: the reference chains."""
    from genviz.gui.chain_runner import ChainRunner, load_model
    from genviz.gui.chain_state import ChainState
    ld = load_model(served.ckpt, "cpu")

    def run(sampler, steps, n, seed, params, branch=None):
        st = ChainState()
        r = ChainRunner(st)
        r.set_model(ld)
        b = r.new_chain(sampler, steps, n, seed, params)
        while not b.done:
            r.step()
        if branch is not None:
            pos, s2, p2, seed2 = branch
            b = r.branch_from(b, pos, s2, p2, seed2)
            while not b.done:
                r.step()
        return b.history()
    return run


def _wait_done(c, sid, branch, have):
    recs = []
    for _ in range(400):
        r = c.call("records", session=sid, branch=branch, start=have + len(recs), wait_s=0.5)
        recs += r["records"]
        if r["status"] != "running" and have + len(recs) >= r["length"]:
            return recs, r
    raise AssertionError("the chain did not finish")


def _same(wire_recs, local_recs):
    from genviz.remote.wire import record_from_wire
    assert [d["index"] for d in wire_recs] == [r.index for r in local_recs]
    for d, r in zip(wire_recs, local_recs):
        rr = record_from_wire(d)
        assert np.array_equal(rr.x_u8, r.x_u8)
        assert (rr.x0_u8 is None) == (r.x0_u8 is None)
        if r.x0_u8 is not None:
            assert np.array_equal(rr.x0_u8, r.x0_u8)
        assert rr.x_norm == pytest.approx(r.x_norm, rel=0, abs=0)


def test_chain_steps_in_order_pause_resume_equals_local(session, local):
    c, sid = session.client, session.sid
    r = c.call("new_chain", session=sid, sampler="ddpm", steps=500, n=2, seed=5, params={})
    recs = list(r["records"])
    assert r["status"] == "paused" and [d["index"] for d in recs] == [0]
    for k in range(1, 4):  # single steps: one record each, in order
        s = c.call("step", session=sid, branch=1)
        assert [d["index"] for d in s["records"]] == [k]
        recs += s["records"]
    c.call("run", session=sid, branch=1)
    time.sleep(0.01)
    p = c.call("pause", session=sid, branch=1, start=len(recs))
    assert p["status"] == "paused"
    recs += p["records"]
    n_paused = p["length"]
    assert len(recs) == n_paused
    time.sleep(0.3)  # paused: no record arrives
    q = c.call("records", session=sid, branch=1, start=n_paused, wait_s=0.3)
    assert q["records"] == [] and q["length"] == n_paused and q["status"] == "paused"
    c.call("run", session=sid, branch=1)  # resume
    more, last = _wait_done(c, sid, 1, len(recs))
    recs += more
    assert last["status"] == "done" and [d["index"] for d in recs] == list(range(501))
    ref = local("ddpm", 500, 2, 5, {})  # one uninterrupted local chain
    _same(recs, ref)
    from genviz.remote.wire import array_from_wire
    x = array_from_wire(c.call("state", session=sid, branch=1, index=500)["x"])
    assert np.array_equal(x, ref[-1].x.numpy())  # the float32 state on the server is the local one, bit for bit


def test_branch_from_a_recorded_step_equals_local(session, local):
    c, sid = session.client, session.sid
    c.call("new_chain", session=sid, sampler="ddim", steps=12, n=2, seed=1, params={})
    c.call("run", session=sid, branch=1)
    _wait_done(c, sid, 1, 1)
    b = c.call("branch", session=sid, source=1, position=4, sampler="ddpm", params={}, seed=9)
    assert b["branch"] == 2 and b["records"][0]["index"] == 4
    c.call("run", session=sid, branch=2)
    more, last = _wait_done(c, sid, 2, 5)
    ref = local("ddim", 12, 2, 1, {}, branch=(4, "ddpm", {}, 9))
    _same(b["records"] + more, ref[4:])


def test_cancel_takes_effect_within_one_step(session):
    c, sid = session.client, session.sid
    c.call("new_chain", session=sid, sampler="ddpm", steps=1000, n=1, seed=0, params={})
    c.call("run", session=sid, branch=1)
    time.sleep(0.02)
    r = c.call("cancel", session=sid, branch=1, start=1)
    assert r["status"] == "stopped" and r["length"] < 1001
    time.sleep(0.3)
    q = c.call("records", session=sid, branch=1, start=r["length"], wait_s=0.2)
    assert q["length"] == r["length"] and q["records"] == []  # nothing was computed after the cancel returned
    s = c.call("step", session=sid, branch=1)  # a cancelled branch does not step again
    assert s["status"] == "stopped" and s["length"] == r["length"] and s["records"] == []


def test_latest_gives_only_the_newest_frame(session):
    c, sid = session.client, session.sid
    c.call("new_chain", session=sid, sampler="ddim", steps=30, n=1, seed=2, params={})
    c.call("run", session=sid, branch=1)
    _wait_done(c, sid, 1, 1)
    r = c.call("latest", session=sid, branch=1, after=0)
    assert [d["index"] for d in r["records"]] == [30]  # a slow client skips to the newest frame
    assert c.call("latest", session=sid, branch=1, after=30)["records"] == []


def test_refusals_token_and_paths(served):
    from genviz.remote.client import RemoteClient, RemoteError
    for token in (None, "wrong"):
        c = RemoteClient(served.url, token)
        c.token = token
        with pytest.raises(RemoteError) as e:
            c.call("list")
        assert e.value.status == 401 and "token" in str(e.value)
    c = RemoteClient(served.url, TOKEN)
    for bad in (served.outside, str(served.folder / ".." / "outside"), "/etc/passwd"):
        with pytest.raises(RemoteError) as e:
            c.call("open", checkpoint=bad)
        assert e.value.status == 403 and "outside the served" in str(e.value)
    with pytest.raises(RemoteError, match="no such checkpoint"):
        c.call("open", checkpoint="nonexistent")
    with pytest.raises(RemoteError) as e:
        c.call("step", session="nope", branch=1)
    assert e.value.status == 404


def test_cli_list_and_sample_are_bit_identical(served, tmp_path, capsys, monkeypatch):
    from genviz.cli import main
    monkeypatch.setenv("GENVIZ_TOKEN", TOKEN)
    assert main(["list", "--server", served.url, "--json"]) == 0
    assert [d["name"] for d in json.loads(capsys.readouterr().out)] == ["tiny"]
    args = ["--sampler", "ddpm", "--steps", "15", "--n", "3", "--seed", "11"]
    assert main(["sample", "tiny", "--server", served.url, "--out", str(tmp_path / "r.npz"), *args]) == 0
    assert main(["sample", served.ckpt, "--device", "cpu", "--out", str(tmp_path / "l.npz"), *args]) == 0
    remote, here = np.load(tmp_path / "r.npz")["samples"], np.load(tmp_path / "l.npz")["samples"]
    assert remote.shape == (3, 1, 8, 8) and np.array_equal(remote, here)
    monkeypatch.delenv("GENVIZ_TOKEN")
    assert main(["list", "--server", served.url]) == 1
    assert "token" in capsys.readouterr().err


def test_a_vanished_client_has_its_session_ended(served):
    from genviz.remote.client import RemoteClient, RemoteError
    c = RemoteClient(served.url, TOKEN)
    s = c.call("open", checkpoint="tiny", timeout_s=1.0)
    c.call("new_chain", session=s["session"], sampler="ddpm", steps=1000, n=1, seed=0, params={})
    c.call("run", session=s["session"], branch=1)
    time.sleep(3.0)  # the client says nothing: the server ends its chain and its actor
    with pytest.raises(RemoteError) as e:
        c.call("ping", session=s["session"])
    assert e.value.status == 404


@pytest.fixture
def qt_settings(tmp_path, qapp):
    from PySide6.QtCore import QSettings
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))


def test_qt_window_shows_a_remote_chain(served, qtbot, qt_settings, local):
    from genviz.gui.main_window import MainWindow
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    try:
        w.remote.connect_to(served.url, TOKEN)
        qtbot.waitUntil(lambda: w.remote.connected, timeout=20000)
        assert [i.name for i in w.browser.infos] == ["tiny"]
        with qtbot.waitSignal(w.modelLoaded, timeout=60000):
            w.load(w.browser.infos[0].path)
        panel = w.chain_panel
        qtbot.waitUntil(lambda: panel.state.branch is not None, timeout=20000)
        assert type(panel.runner).__name__ == "RemoteChainRunner"
        assert "server" in w.remote.label.text() and "cpu" in w.remote.label.text()
        assert not w.canvas_panel.supported() and panel.supported()
        panel.steps_spin.setValue(10)
        panel.seed_spin.setValue(4)
        panel.batch_spin.setValue(2)
        panel.reset(run=True)
        qtbot.waitUntil(lambda: panel.state.status == "done" and len(panel.state.branch) == 11, timeout=30000)
        hist = panel.state.history()
        ref = local(panel.settings()["sampler"], 10, 2, 4, panel.settings()["params"])
        assert [r.index for r in hist] == list(range(11))
        assert all(np.array_equal(a.x_u8, b.x_u8) for a, b in zip(hist, ref))
        panel.refresh()  # the slider's range follows the records on the next redraw
        panel.slider.setValue(3)  # scrub back and branch from there: computed on the server
        qtbot.waitUntil(lambda: panel.state.position == 3, timeout=5000)
        panel.branch_here()
        qtbot.waitUntil(lambda: len(panel.state.branches) == 2, timeout=20000)
        panel.run()
        qtbot.waitUntil(lambda: panel.state.status == "done", timeout=30000)
        assert len(panel.state.branch) == 11 and panel.state.branch.start == 3
        panel.refresh()
        assert panel.state.error is None

        # pause a running chain: no record arrives while paused, and the resumed chain is the uninterrupted one
        panel.sampler_combo.setCurrentIndex(panel.sampler_combo.findData("ddpm"))
        panel.steps_spin.setValue(1000)
        panel.reset(run=True)
        qtbot.waitUntil(lambda: panel.state.branch.total_steps == 1000 and len(panel.state.history()) > 5, timeout=30000)
        panel.pause()
        qtbot.waitUntil(lambda: panel.runner._running is None and w.engine.pending() == 0, timeout=10000)
        n = len(panel.state.branch)
        qtbot.wait(300)
        server_len = session_len(served, panel.runner)
        assert len(panel.state.branch) == n == server_len and panel.state.status == "paused"

        # a lost connection: one message, the window stays up; the server answers again: the chain goes on
        from genviz.remote.client import RemoteClient
        good = panel.runner.client
        panel.runner.client = RemoteClient(f"http://127.0.0.1:{_free_port()}", TOKEN)
        panel.step()
        qtbot.waitUntil(lambda: panel.state.error is not None, timeout=10000)
        assert "lost the connection" in panel.state.error and w.isVisible()
        qtbot.waitUntil(lambda: "lost the connection" in w.last_message[0], timeout=5000)  # one clear message
        panel.runner.client = good
        w.remote.ping()
        qtbot.waitUntil(lambda: panel.state.error is None and panel.runner.lost is None, timeout=10000)
        qtbot.waitUntil(lambda: "reconnected" in w.last_message[0], timeout=5000)
        panel.run()
        qtbot.waitUntil(lambda: panel.state.status == "done", timeout=60000)
        hist = panel.state.history()
        ref = local("ddpm", 1000, 2, 4, panel.settings()["params"])
        assert [r.index for r in hist] == list(range(1001))
        assert all(np.array_equal(a.x_u8, b.x_u8) for a, b in zip(hist, ref))
    finally:
        w.close()


def session_len(served, runner):
    """The server's record count of the runner's active branch (a second connection)."""
    from genviz.remote.client import RemoteClient
    c = RemoteClient(served.url, TOKEN)
    return c.call("records", session=runner.session, branch=runner._id(runner.state.branch), start=10**6)["length"]
