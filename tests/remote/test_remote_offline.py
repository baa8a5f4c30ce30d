"""The remote backend's Ray-free parts: the wire format, the served-folder check, ``genviz serve``'s refusal to
listen beyond this machine without a token, the client's one-line errors, which panels a served model gets, and the
GUI's remote runner driving a real ``ChainSession`` through a JSON round trip (no Ray, no HTTP)."""
import json
import os
import time

import numpy as np
import pytest
import torch

from genviz.gui.chain_state import ChainState, Record
from genviz.remote.wire import array_from_wire, array_to_wire, record_from_wire, record_to_wire, token_ok

META = {
    "name": "tiny", "family": "diffusion",
    "network": {"class": "UNet", "config": {"in_channels": 1, "base": 8, "mults": [1, 2], "blocks": 1,
                                            "attn_lowest": False, "dropout": 0.0}},
    "data": {"shape": [1, 8, 8], "range": [-1, 1], "dataset": "testset", "kind": "image"},
    "schedule": {"beta_schedule": "linear", "num_train_timesteps": 1000, "prediction_type": "epsilon"},
    "sampler": {"name": "ddim", "steps": 10, "eta": 0.0}, "training": {"recipe": "test"},
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.unet import UNet
    d = tmp_path_factory.mktemp("served")
    torch.manual_seed(0)
    save_checkpoint(d / "tiny.safetensors", UNet(base=8, mults=[1, 2], blocks=1, attn_lowest=False).state_dict(), META)
    return d


def test_record_round_trip_keeps_previews_and_figures():
    rng = np.random.default_rng(0)
    r = Record(index=3, t=500, t_next=480, sigma=float("nan"), x=torch.zeros(2, 1, 8, 8),
               x_u8=rng.integers(0, 256, (2, 1, 8, 8), dtype=np.uint8), x0_u8=rng.integers(0, 256, (2, 1, 8, 8),
                                                                                        dtype=np.uint8),
               x_norm=7.25, eps_norm=None, probs=rng.random((2, 10)).astype(np.float32), accept=0.5)
    r.extra = {"nll": np.array([1.5, 2.5])}
    back = record_from_wire(json.loads(json.dumps(record_to_wire(r))))
    assert back.x is None  # the float32 state stays on the server
    assert np.array_equal(back.x_u8, r.x_u8) and np.array_equal(back.x0_u8, r.x0_u8)
    assert np.array_equal(back.probs, r.probs) and back.probs.dtype == np.float32
    assert (back.index, back.t, back.t_next, back.x_norm, back.eps_norm, back.accept) == (3, 500, 480, 7.25, None, 0.5)
    assert np.isnan(back.sigma) and np.array_equal(back.extra["nll"], [1.5, 2.5])


def test_bad_arrays_and_tokens_are_refused():
    a = array_to_wire(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="does not fit"):
        array_from_wire(dict(a, shape=[4, 3]))
    with pytest.raises(ValueError, match="unsupported dtype"):
        array_from_wire(dict(a, dtype="object"))
    with pytest.raises(ValueError):
        array_to_wire(np.array(["a"]))
    assert token_ok(None, None) and token_ok("s", "Bearer s")
    assert not token_ok("s", None) and not token_ok("s", "Bearer t") and not token_ok("s", "s")


def test_only_the_served_folders_are_served(folder, tmp_path):
    from genviz.remote.catalog import Catalog
    c = Catalog([folder])
    assert [i.name for i in c.list()] == ["tiny"]
    assert c.resolve("tiny") == str(folder / "tiny.safetensors")
    assert c.resolve("tiny.safetensors") == str((folder / "tiny.safetensors").resolve())
    (tmp_path / "secret.safetensors").write_bytes(b"x")
    os.symlink(tmp_path / "secret.safetensors", folder / "link.safetensors")
    try:
        for bad in (str(tmp_path / "secret.safetensors"), "../" + tmp_path.name + "/secret.safetensors",
                    "link.safetensors", "/etc/passwd"):
            with pytest.raises(PermissionError, match="outside the served"):
                c.resolve(bad)
    finally:
        os.unlink(folder / "link.safetensors")
    with pytest.raises(ValueError, match="no such checkpoint"):
        c.resolve("other")
    with pytest.raises(ValueError, match="no such folder"):
        Catalog([tmp_path / "missing"])


def test_serve_beyond_localhost_needs_a_token(capsys, monkeypatch):
    from genviz.cli import main
    monkeypatch.delenv("GENVIZ_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "8765"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "token" in err[0] and err[0].startswith("genviz: error:")


def test_an_unreachable_server_is_one_line(capsys):
    import socket

    from genviz.cli import main
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["list", "--server", f"http://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lost the connection" in err[0]


class DirectClient:
    """Stands for RemoteClient: calls a ChainSession directly, through a JSON round trip like the server's."""

    url = "http://direct"

    def __init__(self, session):
        self.s = session

    def call(self, method, session=None, **kw):
        if method == "ping":
            return {"status": self.s.state.status}
        if method == "state":
            return {"x": array_to_wire(self.s.state_array(**kw))}
        return json.loads(json.dumps(getattr(self.s, method)(**kw)))


def test_remote_runner_runs_pauses_branches_like_the_local_runner(folder):
    from genviz.gui.chain_runner import ChainRunner, load_model
    from genviz.remote.gui_runner import RemoteChainRunner, remote_loaded
    from genviz.remote.session import ChainSession
    sess = ChainSession(str(folder / "tiny.safetensors"), "cpu")
    step = sess.runner.step

    def slow_step():  # the tiny chain would otherwise finish on the server before the client's pause arrives
        time.sleep(0.02)
        return step()
    sess.runner.step = slow_step
    client = DirectClient(sess)
    ld = remote_loaded(client, json.loads(json.dumps(sess.describe())))
    assert ld.model.remote and ld.model.data_shape == (1, 8, 8) and "ddpm" in [s.name for s in ld.samplers]
    from genviz.panels import get_panel
    assert get_panel("chain").supports(ld.model) and "needs a local model" in get_panel("canvas").why_not(ld.model)
    st = ChainState()
    rr = RemoteChainRunner(st, client, "s1")
    rr.set_model(ld)
    b = rr.new_chain("ddpm", 30, 2, 7, {})
    st.request_step()
    rr.step()  # Step: one record
    assert [r.index for r in b.history()] == [0, 1]
    st.set_running(True)
    while rr.wants_step() and len(b) < 12:
        rr.step()
    st.set_running(False)  # Pause: the runner tells the server and takes the records made meanwhile
    while rr.wants_step():
        rr.step()
    assert len(b) == len(sess.state.branches[0]) and st.status == "paused"
    st.set_running(True)
    while rr.wants_step():
        rr.step()
    assert st.status == "done" and [r.index for r in b.history()] == list(range(31))
    nb = rr.branch_from(b, 10, "ddim", {}, 3)
    st.set_running(True)
    while rr.wants_step():
        rr.step()
    local_ld = load_model(str(folder / "tiny.safetensors"), "cpu")
    ls = ChainState()
    lr = ChainRunner(ls)
    lr.set_model(local_ld)
    lb = lr.new_chain("ddpm", 30, 2, 7, {})
    while not lb.done:
        lr.step()
    lnb = lr.branch_from(lb, 10, "ddim", {}, 3)
    while not lnb.done:
        lr.step()
    for mine, ref in ((b, lb), (nb, lnb)):
        assert [r.index for r in mine.history()] == [r.index for r in ref.history()]
        assert all(np.array_equal(p.x_u8, q.x_u8) for p, q in zip(mine.history(), ref.history()))
    assert torch.equal(rr.exact_x(nb, 20), lr.exact_x(lnb, 20))
    sess.close()
