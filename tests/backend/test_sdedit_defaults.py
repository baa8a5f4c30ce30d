"""SDEdit's default t0 follows the signal kept (ᾱ), not the fraction of T: the linear schedule gets a much smaller
t0 than the cosine one, and a checkpoint's own measured t0 wins (sdedit_defaults)."""
import math

import pytest
import torch
from tinymodels import tiny_metadata, tiny_model

from genviz.backend import sdedit_defaults as sd
from genviz.backend.conditioning import t0_to_timestep
from genviz.backend.schedules import alphas_cumprod_from_betas, make_betas


def _acp(name):
    return alphas_cumprod_from_betas(make_betas(name, 1000, 1e-4, 0.02))


def test_reference_is_cosine_alpha_bar_at_the_measured_t0():
    # cosine (Nichol & Dhariwal 2021 Eq. 17): ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2), s = 0.008,
    # at timestep round(0.6 · 1000) − 1 = 599, t/T = 600/1000 in diffusers' discretisation
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    assert sd.reference_alpha_bar() == pytest.approx(f(0.6) / f(0.0), rel=2e-3)
    assert 0.33 < sd.reference_alpha_bar() < 0.35


def test_matched_t0_keeps_the_reference_signal_on_each_schedule():
    assert sd.matched_t0(_acp("squaredcos_cap_v2")) == sd.DEFAULT_T0  # the schedule it was measured on
    lin = sd.matched_t0(_acp("linear"))
    assert lin == pytest.approx(0.32, abs=0.011)  # not 0.6, where the linear schedule keeps ᾱ ≈ 0.026
    a_lin = float(_acp("linear")[t0_to_timestep(lin, 1000)])
    assert abs(math.log(a_lin / sd.reference_alpha_bar())) < 0.05
    assert float(_acp("linear")[t0_to_timestep(0.6, 1000)]) < 0.03  # the figure


def test_matched_t0_refuses_bad_input():
    with pytest.raises(ValueError, match="alphas_cumprod"):
        sd.matched_t0(torch.tensor([]))
    with pytest.raises(ValueError, match="alphas_cumprod"):
        sd.matched_t0(torch.tensor([1.0, float("nan")]))
    with pytest.raises(ValueError, match="target"):
        sd.matched_t0(_acp("linear"), target=0.0)


def test_default_t0_by_model():
    lin, cos = tiny_model("linear"), tiny_model("squaredcos_cap_v2")
    assert sd.default_t0(lin)[0] == pytest.approx(0.32, abs=0.011)
    assert sd.default_t0(cos)[0] == 0.6 and "ᾱ" in sd.default_t0(cos)[1]
    cos.metadata = tiny_metadata("squaredcos_cap_v2", canvas={"t0": 0.45, "source": "measured: README"})
    assert sd.default_t0(cos) == (0.45, "measured: README")
    class NoSchedule:
        metadata: dict = {}
    assert sd.default_t0(NoSchedule())[0] == sd.DEFAULT_T0


def test_recommended_settings_plain_model_uses_its_own_t0():
    rec = sd.recommended_settings(tiny_model("linear"))  # 1x8x8: no guide classifier fits
    assert rec["ilvr"] == 0 and rec["guidance"] == 0.0 and "guide_classifier" not in rec
    assert rec["t0"] == pytest.approx(0.32, abs=0.011)


def test_metadata_canvas_block_is_validated():
    from genviz.backend.validate import check_metadata
    check_metadata(tiny_metadata(canvas={"t0": 0.5, "source": "x"}))
    with pytest.raises(ValueError, match="canvas.t0"):
        check_metadata(tiny_metadata(canvas={"t0": 1.5}))
