"""The density panel's Qt-free state (``genviz.gui.panels.density.model``): settings and their session form,
computation tokens, training progress / previews / cancel, particle frames and trails, and the texts it shows."""
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from genviz.backend.toy.views import ParticleFrame
from genviz.gui.panels.density import model as dm
from genviz.gui.panels.density.model import MAX_DOTS, TRAIL, DensityState, readout_html


def test_model_imports_without_qt():
    code = ("import sys; import genviz.gui.panels.density.model as m; m.DensityState().session_state(); "
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'pyqtgraph', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_defaults_and_session_round_trip():
    st = DensityState()
    assert st.session_state() == {"dataset": "25gaussians", "layout": "plot", "image": "logp",
                                  "views": {"data": True, "samples": True, "particles": True, "score": False,
                                            "moves": True},
                                  "t": 0, "res": 150, "n": 2000, "slow": True, "chain_seed": 0}
    st.apply_session({"dataset": "8gaussians", "image": "density", "views": {"score": True, "bogus": True},
                      "res": 1000, "n": 0, "slow": 0, "chain_seed": 7, "user_points": [[1, 2], [3, 4]]})
    out = st.session_state()
    assert out["dataset"] == "8gaussians" and out["image"] == "density" and out["res"] == 400 and out["n"] == 1
    assert out["views"]["score"] and "bogus" not in out["views"] and out["slow"] is False
    assert out["chain_seed"] == 7 and out["user_points"] == [[1.0, 2.0], [3.0, 4.0]]
    other = DensityState()
    other.apply_session(out)
    assert other.session_state() == out


@pytest.mark.parametrize("bad, match", [({"layout": "grid"}, "unknown layout"), ({"image": "x"}, "unknown image"),
                                        ({"dataset": "nope"}, "unknown dataset"),
                                        ({"user_points": [[1, np.nan]]}, "user_points")])
def test_a_bad_session_changes_nothing(bad, match):
    st = DensityState()
    before = st.session_state()
    with pytest.raises(ValueError, match=match):
        st.apply_session({"res": 50, **bad})
    assert st.session_state() == before


def test_setting_checks_and_clamps():
    st = DensityState(families=("ebm", "flow"))
    assert st.set("t", 5000) == 999
    st.set_t_max(99)
    assert st.settings.t == 99 and st.set("t", 500) == 99 and st.set("t", -3) == 0
    assert st.set("family", "flow") == "flow"
    with pytest.raises(ValueError, match="unknown family"):
        st.set("family", "gan")
    with pytest.raises(ValueError, match="unknown setting"):
        st.set("colour", 1)
    with pytest.raises(ValueError, match="unknown layer"):
        st.set_layer("halo", True)
    assert DensityState().set("family", "anything") == "anything"   # families not known yet: the recipe decides
    assert st.next_chain_seed() == 0 and st.next_chain_seed() == 1 and st.settings.chain_seed == 2


def test_families_come_from_the_training_recipes():
    from genviz.backend.training.toy import MODELS
    assert dm.trainable_families() == tuple(MODELS) and dm.FAMILIES == tuple(MODELS)


def test_only_the_latest_computation_counts():
    st, model = DensityState(), object()
    a, b = st.begin_compute(), st.begin_compute()
    assert st.busy and st.status == "computing views…"
    assert not st.finish_compute(a, {"model": model}, model) and st.busy and st.result is None
    assert not st.finish_compute(b, {"model": None}, model) and not st.busy and st.result is None  # other model
    c = st.begin_compute()
    st.preview = {"model": "preview"}
    assert st.finish_compute(c, {"model": model, "x": 1}, model) and st.result["x"] == 1 and st.preview is None
    e, f = st.begin_compute(), st.begin_compute()
    st.compute_failed(e)
    assert st.busy
    st.compute_failed(f)
    assert not st.busy and st.result["x"] == 1
    d = st.begin_compute()
    st.invalidate()
    assert not st.busy and st.result is None and not st.finish_compute(d, {"model": model}, model)


def _progress(step, steps=100, loss=0.5, preview=None, preview_step=None):
    return {"step": step, "steps": steps, "loss": loss, "history": np.array([[step, loss]]), "preview": preview,
            "preview_step": preview_step}


def test_training_progress_preview_and_completion():
    st = DensityState()
    st.set("family", "flow")
    st.set("train_steps", 100)
    st.result = {"model": None, "tag": "old"}
    st.start_training()
    assert st.training and st.train_progress == (0, 100, None) and st.progress_text == "training flow: starting…"
    assert not st.on_training(_progress(0, loss=float("nan")))            # no real loss yet: no "+nan"
    assert st.progress_text == "training flow: starting…"
    assert not st.on_training(_progress(10, loss=1.25))
    assert st.progress_value == 10 and st.progress_text == "training: step 10/100 · loss +1.250"
    assert st.loss_history.tolist() == [[10, 1.25]]
    shown = st.shown()             # before the first preview: the data, not the previous model's picture
    assert shown["tag"] == "old" and shown["samples"] is None and shown["logp"] is None and shown["kind"] is None
    assert "training flow live" in st.readout_html("old model") and st.image_units() == "log p(x) (nats)"
    pv = {"grid": (-1.0, 1.0, 4), "density": np.full((4, 4), 0.25), "kind": "flow"}
    assert st.on_training(_progress(20, preview=pv, preview_step=10))
    assert not st.on_training(_progress(30, preview=pv, preview_step=10))     # the same preview: no redraw
    assert st.shown() is pv and st.figure_caption(pv, "x", "8gaussians").startswith("training flow (step 10) on")
    m = SimpleNamespace(dataset="8gaussians", family="flow", name="tmp", metadata={"training": {"seconds": 1.5}})
    assert st.training_done(m) == "trained live-8gaussians-flow in 1.5 s"
    assert m.name == m.metadata["name"] == "live-8gaussians-flow"
    assert not st.training and st.progress_value == 100 and st.progress_text == "trained flow (1.5 s)"
    assert st.shown() is pv            # until the trained model's views come in
    assert not st.on_training(_progress(40))                                  # late values are ignored
    assert st.train_progress[0] == 30


def test_training_cancel_and_failure():
    st = DensityState()
    st.start_training()
    st.on_training(_progress(40, preview={"grid": (0, 1, 2)}))
    st.training_stopped(None)
    assert not st.training and st.progress_text == "cancelled" and st.status == "training cancelled at step 40"
    assert st.preview is None
    st.start_training()
    st.training_stopped("training diverged at step 3 (loss nan)")
    assert st.progress_text == "failed" and "ff6b6b" in st.status and "diverged" in st.status and st.idle


def test_particle_frames_trails_and_texts():
    st = DensityState()
    assert st.frame_to_draw() is None
    st.start_chain()
    assert st.chain_running and not st.idle
    x = np.zeros((10, 2), np.float32)
    for i in range(TRAIL + 2):
        st.on_frame(ParticleFrame(i, 9, x + i))
        assert st.frame_to_draw() is st.live and st.frame_to_draw() is None     # drawn once
    assert len(st.trail) == TRAIL and st.trail[-1][0, 0] == TRAIL + 1 and st.frames_drawn == TRAIL + 2
    assert st.frame_to_draw(force=True) is st.live and len(st.trail) == TRAIL and st.frames_drawn == TRAIL + 3
    st.on_frame(ParticleFrame(6, 9, np.array([[np.nan, np.inf]] * 3, np.float32)))
    st.frame_to_draw()
    assert np.isfinite(st.trail[-1]).all()
    assert st.particles_text() == "step 6 / 9 · 3 particles"
    d, n = np.array([[3.0, 4.0]]), np.array([[0.0, 1.0]])
    st.on_frame(ParticleFrame(7, 9, np.zeros((MAX_DOTS + 1, 2)), moves=(7, np.zeros((1, 2)), d, n)))
    text = st.particles_text()
    assert "5001 particles (density image)" in text and "drift (orange) ‖·‖ 5" in text and "noise (blue) 1" in text
    st.set_layer("moves", False)
    assert "drift" not in st.particles_text()
    st.chain_done((9, 9))
    assert not st.chain_running and st.chain_text == "step 9 / 9 — done"
    st.chain_done((4, 9), cancelled=True)
    assert st.chain_text == "step 4 / 9 (cancelled)"


def test_user_points_and_brush():
    st = DensityState()
    a = st.brush(1.0, -1.0)
    assert a.shape == (3, 2) and np.abs(a - [1.0, -1.0]).max() < 0.3
    np.testing.assert_array_equal(a, DensityState().brush(1.0, -1.0))   # seeded by the number of points
    pts = st.add_user_points(a)
    assert pts.shape == (3, 2) and pts.dtype == np.float32 and len(st.user_points) == 3
    assert not np.array_equal(st.brush(1.0, -1.0), a)


def test_readouts_figure_texts_and_mass():
    assert "data only" in readout_html(None)
    r = {"density_kind": "flow", "log_likelihood": -2.5, "data_log_likelihood": None, "log_z": None,
         "mode_coverage": {"modes_covered": 7, "modes": 8, "min_count": 10, "k": 3.0, "high_quality": 0.875},
         "mmd2": 0.01234, "energy_distance": None, "n": 2500, "grid": "[-4, 4]²"}
    html = readout_html(r)
    assert "(nats/point, flow, exact): -2.500" in html and "same points: —" in html
    assert "7 / 8" in html and "87.5 %" in html and "MMD²</b>: 0.0123" in html and "energy distance: —" in html
    assert "none: a GAN has no density" in readout_html({**r, "density_kind": None})
    st = DensityState()
    res = {"grid": (-2.0, 2.0, 4), "density": np.full((4, 4), 1 / 16), "kind": "ode"}
    assert dm.grid_mass(res) == pytest.approx(1.0) and np.isnan(dm.grid_mass({**res, "density": None}))
    assert st.figure_titles(res) == ("ODE log p(x)", "normalised density")
    assert st.figure_titles({**res, "density": None, "kind": "discriminator"})[1] == "— (no density)"
    cap = st.figure_caption(res, None, "moons")
    assert cap == "(no model) on moons — grid [-2, 2]², 4×4; normalised density sums to 1.0000"
    assert "a GAN has none" in st.figure_caption({**res, "density": None}, "g", "moons")


def test_supports_and_model_label():
    toy = SimpleNamespace(name="t", family="flow", data_shape=(2,),
                          traits=SimpleNamespace(density=True, energy=False, score=False, elbo=False, discriminator=False))
    img = SimpleNamespace(**{**toy.__dict__, "name": "big", "data_shape": (1, 28, 28)})
    assert dm.supports(toy) and not dm.supports(img) and not dm.supports(None)
    assert dm.model_label(toy) == "<b>t</b> (flow)" and dm.model_label(None) == "no 2-D model loaded"
    assert "big (flow) is not a 2-D toy model" in dm.model_label(img) and "2-D" in dm.model_label(img)


def test_live_defaults_steps_note_and_a_new_model():
    from genviz.backend.training.toy import LIVE
    st = DensityState(families=tuple(LIVE))
    assert st.train_note() == ""
    st.live_steps = dm.live_defaults()
    assert set(st.live_steps) == set(LIVE) and all(steps >= 10 and note for steps, note in st.live_steps.values())
    for fam, live in LIVE.items():
        assert st.choose_family(fam) == live.steps == st.settings.train_steps
        assert st.train_note().startswith(f"{fam}: default {live.steps} steps.")
    st.result, st.preview = {"model": 1, "readouts": None}, {"model": 2}
    st.on_frame(ParticleFrame(3, 9, np.zeros((4, 2), np.float32)))
    st.frame_to_draw()
    st.model_changed(keep_preview=True)
    assert st.result is None and st.preview == {"model": 2} and st.live is None and st.trail == []
    st.model_changed()
    assert st.preview is None and st.shown() is None
    st.begin_compute()
    assert "computing the views and readouts of m" in st.readout_html("m")


@pytest.mark.parametrize("image, kind, units", [("logp", "neg_energy", "−E(x) (nats, unnormalised)"),
                                                ("logp", "ode", "log p(x) (nats, ODE)"),
                                                ("logp", "discriminator", "D(x) logit"),
                                                ("density", "flow", "p(x) (per unit area)"),
                                                ("data", None, "data p(x) (per unit area)"), ("none", "flow", "")])
def test_colour_bar_units(image, kind, units):
    assert dm.image_units(image, kind) == units
