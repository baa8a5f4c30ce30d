"""The toy recipe as a generator (``training.toy.train_steps``): one record per step, snapshots that are
independent copies, ``train`` as a thin loop over it (same weights, same checkpoints), the EMA warm-up, and
every family trained at its live default (``training.toy.LIVE``) giving samples that match the data by the
lab's own measures (``toy.metrics``)."""
import math

import pytest
import torch

from genviz.backend import load_checkpoint
from genviz.backend.toy.datasets import make_dataset
from genviz.backend.toy.lab import model_samples
from genviz.backend.toy.metrics import mmd2, mode_coverage
from genviz.backend.training.toy import LIVE, MODELS, RECIPES, ema_decay, train, train_steps

TINY_FLOW = dict(hidden=8, transforms=1, bins=4)


def _run(gen):
    records = []
    while True:
        try:
            records.append(next(gen))
        except StopIteration as stop:
            return records, stop.value


def test_train_steps_yields_every_step_and_snapshots_are_copies():
    records, model = _run(train_steps("8gaussians", "flow", 12, **TINY_FLOW))
    assert [r.step for r in records] == list(range(1, 13)) and all(r.steps == 12 for r in records)
    assert all(math.isfinite(r.loss) for r in records) and records[-1].seconds >= records[0].seconds >= 0
    snap = records[0].snapshot()       # taken now, after all 12 steps: the live weights, copied
    assert snap.family == "flow" and snap.net is not model.net and snap.metadata["training"]["steps_done"] == 1
    for a, b in zip(snap.net.state_dict().values(), model.net.state_dict().values()):
        assert torch.equal(a, b)
    with torch.no_grad():              # a snapshot never moves with the model it came from
        next(snap.net.parameters()).add_(1.0)
    assert not torch.equal(next(snap.net.parameters()), next(model.net.parameters()))
    assert model.metadata["training"]["steps_done"] == 12 and model.path is None


def test_diffusion_snapshot_is_the_ema():
    gen = train_steps("8gaussians", "diffusion", 5, hidden=16, T=100)
    r = next(gen)
    snap = r.snapshot()
    assert snap.family == "diffusion"
    for k, v in snap.net.state_dict().items():
        assert torch.equal(v, r.state_dict()[k])
    gen.close()


def test_train_is_a_loop_over_train_steps(tmp_path):
    out = tmp_path / "toy.safetensors"
    seen = []
    m = train("8gaussians", "flow", 25, out, log=None, progress=lambda i, n, loss: seen.append((i, n)),
              save_every=10, **TINY_FLOW)
    _, ref = _run(train_steps("8gaussians", "flow", 25, **TINY_FLOW))
    for a, b in zip(m.net.state_dict().values(), ref.net.state_dict().values()):
        assert torch.equal(a, b)
    assert seen == [(10, 25), (20, 25), (25, 25)] and m.path == str(out)
    loaded = load_checkpoint(out, device="cpu")
    assert loaded.metadata["training"]["steps_done"] == 25 and loaded.metadata["training"]["steps"] == 25
    for a, b in zip(loaded.net.state_dict().values(), m.net.state_dict().values()):
        assert torch.equal(a, b)


def test_bad_arguments_are_refused_at_the_call():
    with pytest.raises(ValueError, match="unknown toy model"):
        train_steps("8gaussians", "wgan", 10)
    with pytest.raises(ValueError, match="no parameter"):
        train_steps("8gaussians", "flow", 10, bogus=1)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        train_steps("8gaussians", "flow", 0)


def test_ema_decay_warms_up_to_the_recipe_value():
    assert ema_decay(0.999, 1) == pytest.approx(2 / 11) and ema_decay(0.999, 600) == pytest.approx(601 / 610)
    assert ema_decay(0.999, 10**6) == 0.999
    d = [ema_decay(0.999, i) for i in range(1, 20000, 97)]
    assert all(a <= b for a, b in zip(d, d[1:]))


def test_live_recipes_cover_every_family():
    assert set(LIVE) == set(MODELS)
    for fam, live in LIVE.items():
        assert 10 <= live.steps <= RECIPES[fam]["steps"] and live.note
        assert set(live.overrides) <= set(RECIPES[fam])


def _quality(model, dataset, n=2000, seed=0):
    x = model_samples(model, n, seed)
    data = dataset.sample(n, seed=seed + 1)
    out = {"mmd2": mmd2(x, data)}
    if dataset.is_mixture:
        out["coverage"] = mode_coverage(x, dataset.centres, dataset.std)
    return out


def test_diffusion_ema_warm_up_makes_600_steps_usable():
    """Reported: diffusion at the panel's old 600 steps gave samples spread over ±4 on moons, as the EMA (0.999)
    still held 55 % of the random start. Measured MMD² (2,000 vs 2,000 points): 0.32 without the warm-up, 0.024
    with it (bundled 15,000-step models: 0.0002-0.006; two data samples: ±0.002)."""
    m = train("moons", "diffusion", 600, None, log=None)
    assert _quality(m, make_dataset("moons"))["mmd2"] < 0.08


# Each family at its live default (``LIVE``) on one dataset, with the lab's own measures (2,000 samples against
# 2,000 data points; reference: two data samples differ by MMD² ±0.002, the bundled 15,000-step models score
# 0.0002-0.006). Datasets and bounds are set from measured runs (see ``LIVE``'s notes): the mixtures test mode
# coverage too; the VAE and GAN are checked on moons, where their live defaults match the data (on the
# mixtures they still string samples between the modes, as their notes in the panel say).
LIVE_CHECKS = {                         # family: (dataset, MMD² below, modes covered, high-quality share)
    "ebm": ("8gaussians", 0.03, 8, 0.85),          # measured: 0.008, 8/8, 93 %
    "diffusion": ("8gaussians", 0.02, 8, 0.8),     # 0.003, 8/8, 93 % (recipe lr 1e-3 at 3,000 steps: 0.08, 35 %)
    "flow": ("8gaussians", 0.01, 8, 0.85),         # 0.003, 8/8, 91 %
    "vae": ("moons", 0.06, None, None),            # 0.046 (600 steps: 0.065)
    "gan": ("moons", 0.03, None, None),            # 0.015
}


@pytest.mark.slow       # 5-17 s per family on 2 cores, about 65 s in all (CI runs it; the quick loop skips it)
@pytest.mark.parametrize("family", sorted(LIVE_CHECKS))
def test_each_family_at_its_live_default_matches_the_data(family):
    dataset, max_mmd, min_modes, min_hq = LIVE_CHECKS[family]
    live = LIVE[family]
    ds = make_dataset(dataset)
    _, model = _run(train_steps(dataset, family, live.steps, **live.overrides))
    q = _quality(model, ds)
    assert q["mmd2"] < max_mmd, q
    if min_modes is not None:
        cov = q["coverage"]
        assert cov["modes_covered"] >= min_modes and cov["high_quality"] >= min_hq, cov
