"""Bounded chain history (gui.history): exact keyframes every k records, shrunk uint8 previews for large images,
and exact states rebuilt by replay -- bit-identical to the states the chain had and to today's branching."""
import numpy as np
import pytest
import torch

from genviz.gui.chain_runner import ChainRunner
from genviz.gui.chain_state import ChainState
from genviz.gui.history import keyframe_every, preview_factor, shrink_u8


def _loaded(model):
    from genviz.backend import samplers_for
    from genviz.gui.chain_runner import LoadedModel
    return LoadedModel(model, None, samplers_for(model), ["cpu"], "")


def _tiny(shape=(1, 8, 8)):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
    from tinymodels import tiny_metadata, tiny_unet

    from genviz.backend import DiffusionModel
    net = tiny_unet()
    return DiffusionModel(net, tiny_metadata(shape=shape), "cpu")


def _run(model, keyframe_bytes, sampler="ddpm", steps=12, n=4, seed=3, params=None):
    r = ChainRunner(ChainState())
    r.keyframe_bytes, r.exact_bytes = keyframe_bytes, 0
    r.set_model(_loaded(model))
    b = r.new_chain(sampler, steps, n, seed, dict(params or {}))
    while not (b.done or b.stopped):
        r.step()
    return r, b


def test_budgets_fit_512_mb_at_batch_64_of_3x64x64():
    x_bytes = 64 * 3 * 64 * 64 * 4
    k, f = keyframe_every(x_bytes), preview_factor((64, 3, 64, 64))
    assert (k, f) == (50, 2)
    mb = (1000 // k + 1) * x_bytes / 2**20 + 1000 * 2 * 64 * 3 * (64 // f) ** 2 / 2**20
    assert mb <= 512
    assert keyframe_every(4 * 64 * 4) == 1 and preview_factor((16, 1, 28, 28)) == 1  # small chains: as before
    assert keyframe_every(64 * 784 * 4) == 1  # batch 64 of MNIST: every record exact, branching replays nothing
    a = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    s = shrink_u8(a, 2)
    assert s.shape == (2, 3, 2, 2) and s[0, 0, 0, 0] == round(a[0, 0, :2, :2].mean())


@pytest.mark.parametrize("sampler,params", [("ddpm", {}), ("ddim", {"eta": 1.0})])
def test_replayed_states_and_branches_are_bit_identical(sampler, params):
    model = _tiny()
    full_r, full = _run(model, 10**12, sampler, params=params)          # every state kept (today's history)
    kf_r, kf = _run(model, 4 * 64 * 4 // 5 + 1, sampler, params=params)  # a keyframe every 5 records
    assert all(r.x is not None for r in full.history())
    kept = [r.index for r in kf.history() if r.x is not None]
    assert kept == [0, 5, 10, 12]
    for p in range(len(full.history())):
        assert torch.equal(kf_r.exact_x(kf, p), full.history()[p].x), p
        assert np.array_equal(kf.history()[p].x_u8, full.history()[p].x_u8)
    # branching from a replayed step gives exactly today's branch (from the kept state)
    outs = []
    for r, b in ((full_r, full), (kf_r, kf)):
        child = r.branch_from(b, 7, sampler, dict(params), seed=11)
        while not (child.done or child.stopped):
            r.step()
        grand = r.branch_from(child, 3, sampler, dict(params), seed=5)  # a step in the child's prefix
        while not (grand.done or grand.stopped):
            r.step()
        outs.append((r.exact_x(child, 9), child.history()[-1].x, grand.history()[-1].x))
    for a, b in zip(*outs):
        assert torch.equal(a, b)


def test_large_images_get_shrunk_previews_and_full_size_replay(tmp_path):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from colourtiny import genviz_ddpm

    from genviz.backend import load_checkpoint
    model = load_checkpoint(str(genviz_ddpm(tmp_path / "c.safetensors", (3, 16, 16))), device="cpu")
    r = ChainRunner(ChainState())
    r.keyframe_bytes, r.preview_bytes, r.exact_bytes = 2 * 3 * 16 * 16 * 4 // 3, 2 * 2 * 3 * 8 * 8, 0
    r.set_model(_loaded(model))
    b = r.new_chain("ddim", 6, 2, 0, {})
    while not (b.done or b.stopped):
        r.step()
    h = b.history()
    assert h[4].x is None and h[4].x_u8.shape == (2, 3, 8, 8) and h[4].x0_u8.shape == (2, 3, 8, 8)
    assert r.exact_x(b, 4).shape == (2, 3, 16, 16)
