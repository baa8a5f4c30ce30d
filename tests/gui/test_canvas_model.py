"""The canvas panel's Qt-free model: settings validation, latency readout (injected clock), staging texts with
the model's name, session and autosave data, and the backend conversions it uses (no widgets here)."""
import numpy as np
import pytest

from genviz.gui.panels.canvas import model as cm
from genviz.gui.panels.canvas.model import CanvasSettings, CanvasState, Progress


class Clock:
    def __init__(self):
        self.t = 10.0

    def __call__(self):
        return self.t


class FakeModel:
    name = "fake"
    data_shape = (1, 28, 28)
    num_train_timesteps = 1000
    _acp_cpu = np.linspace(0.9999, 0.0001, 1000)


def _out(n=2, model="fake", **params):
    p = dict(t0=0.6, n=n, seed=0, steps=3, sampler="ddim", **params)
    return {"samples": np.zeros((n, 1, 28, 28), np.float32), "x_t0": np.zeros((n, 1, 28, 28), np.float32),
            "seconds": 0.25, "params": p, "model": model}


def test_model_and_generation_modules_have_no_qt():
    import genviz.gui.panels.canvas.generation as gen
    for mod in (cm, gen):
        src = open(mod.__file__).read()
        assert "PySide6" not in src and "QtCore" not in src


def test_settings_merge_validates_and_keeps_missing_keys():
    base = CanvasSettings(t0=0.6, sampler="ddim")
    assert base.as_dict() == dict(t0=0.6, sampler="ddim", n=4, seed=0, steps=25, ilvr=0, guidance=0.0, guide_class=None)
    s = base.merged({"t0": "0.73", "seed": 9, "sampler": "ddpm", "ilvr": 4, "guidance": 2, "guide_class": 3})
    assert (s.t0, s.seed, s.sampler, s.ilvr, s.guidance, s.guide_class, s.n) == (0.73, 9, "ddpm", 4, 2.0, 3, 4)
    assert base.merged({"ilvr": 1, "guidance": 0}).ilvr == 0 and base.merged({"guide_class": None}).guide_class is None
    for bad, match in (({"t0": 1.5}, "t0"), ({"t0": "x"}, "t0"), ({"t0": float("nan")}, "t0"), ({"n": 0}, "n"),
                       ({"steps": "many"}, "steps"), ({"sampler": "euler"}, "sampler"), ({"ilvr": 40}, "ilvr"),
                       ({"guidance": 50}, "guidance"), ({"guide_class": 10}, "guide_class")):
        with pytest.raises(ValueError, match=match):
            base.merged(bad)


def test_recommended_settings_come_from_conditioning():
    from genviz.backend import conditioning as cond
    assert cm.sdedit_samplers() == tuple(cond.SDEDIT_SAMPLERS) + ("ddgan", "pixelcnn", "gibbs")  # every one
    g, plain = cm.recommended(True), cm.recommended(False)
    assert (g["t0"], g["ilvr"], g["guidance"], g["guided"]) == (cond.RECOMMENDED["t0"], cond.RECOMMENDED["ilvr"],
                                                                cond.RECOMMENDED["guidance"], True)
    assert plain["t0"] == cond.DEFAULT_T0 and not plain["guided"]


def test_model_view_is_image_to_model_in_unit_range():
    ink = np.zeros((280, 280, 3), np.uint8)
    ink[100:180, 130:150] = 255
    v = cm.model_view(ink, (1, 28, 28))
    assert v.shape == (1, 28, 28) and v.dtype == np.float32
    assert v[0, 12, 13] == 1.0 and v[0, 0, 0] == 0.0 and 0 < v[0, 10, 14] <= 1  # area averaging at the edges
    assert cm.model_view(ink, (3, 14, 14)).shape == (3, 14, 14)


def test_latency_readout_and_live_mode_reset():
    c = Clock()
    s = CanvasState(clock=c)
    assert s.latency_text() == "latency: —"
    s.stroke_finished()
    c.t += 5.0
    s.start(live=False)  # Generate: latency from the click
    assert s.busy and s.progress == Progress("starting", 0.0)
    c.t += 0.5
    msg = s.finish(_out())
    assert not s.busy and s.last_latency == pytest.approx(0.5) and s.last_seconds == 0.25
    assert s.latency_text() == "latency: 0.50 s (stroke/click → shown); generation 0.25 s (up to 4.0 per second), 8.0 images/s"
    assert msg == "batch 1 (fake): 2 candidates, t0 0.60, ddim 3 steps, seed 0"
    s.stroke_finished()
    c.t += 30.0
    s.live_enabled()  # an old stroke does not count, the old readout goes
    assert s.last_latency is None and s.latency_text() == "latency: —"
    s.start(live=True)
    assert s.scheduler.running
    c.t += 0.2
    s.finish(_out())
    assert s.last_latency == pytest.approx(0.2) and not s.scheduler.running
    s.stroke_finished()  # live: from the stroke release
    c.t += 0.1
    s.start(live=True)
    c.t += 0.3
    s.finish(_out())
    assert s.last_latency == pytest.approx(0.4)


def test_failure_and_cancel_end_the_generation():
    s = CanvasState(clock=Clock())
    s.start(live=True)
    assert s.fail("boom") == "generation failed: boom" and not s.busy and not s.scheduler.running
    s.start()
    assert s.cancel() == "generation cancelled" and not s.busy and s.progress is None
    assert len(s.scheduler.generation_times) == 0  # neither counts toward live mode's average


def test_staging_texts_name_the_model_and_accepting_keeps_the_place():
    s = CanvasState(clock=Clock())
    assert s.stage_text() == ""
    s.finish(_out(2, "model-a"))
    msg = s.finish(_out(3, "model-b", guided_to=7))
    assert msg.startswith("batch 2 (model-b): 3 candidates") and msg.endswith(", guided to 7")
    assert [c.model for c in s.staging.candidates] == ["model-a"] * 2 + ["model-b"] * 3
    assert s.stage_text() == "candidate 3 of 5 — batch 2, t0 0.60, seed 0\nmodel: model-b"
    s.staging.select(1)
    assert s.stage_text().endswith("model: model-a")
    c, new, msg = s.accept()
    assert new and (c.batch, c.k) == (1, 1) and msg.startswith("accepted candidate 1.2")
    assert s.staging.index == 1 and len(s.staging) == 5 and s.stage_text().endswith("model: model-a · accepted")
    assert s.accept()[1] is False  # already in the history
    assert CanvasState.candidate_name(c) == "1.2" and "by model-a:" in CanvasState.candidate_tooltip(c)
    assert "accepted" in CanvasState.candidate_tooltip(c)
    assert "candidate 2 of 5" in s.caption(0.6, blank=False, guided=False)


def test_dropped_batches_are_reported():
    s = CanvasState(clock=Clock())
    s.staging.max_batches = 1
    s.finish(_out())
    assert s.finish(_out()).endswith("; 1 oldest batch dropped from staging")


def test_t0_readout_uses_the_models_schedule(tiny_ckpt):
    s = CanvasState()
    assert s.t0_text(0.6) == "0.60  (load a diffusion model)"
    s.set_model(FakeModel())
    assert (s.model_name, s.shape, s.num_train_timesteps) == ("fake", (1, 28, 28), 1000)
    assert not s.guided  # the test checkpoint folder has no mnist-guide
    assert s.t0_text(0.0) == "0.00  (t = 0: the drawing itself)"
    assert s.t0_text(1.0) == "1.00  (t = 1000: pure noise)"
    assert s.t0_text(0.6) == f"0.60  (t = 600, ᾱ = {FakeModel._acp_cpu[599]:.3f})"


def test_session_round_trip_and_malformed_data():
    ink = np.zeros((280, 280, 3), np.uint8)
    ink[50:60] = 200
    mask = np.zeros((280, 280), np.uint8)
    mask[:10] = 255
    base = CanvasSettings(t0=0.6, sampler="ddim")
    data = cm.session_dict(base.merged({"seed": 5}), ink, mask)
    assert set(data) == {"settings", "drawing", "mask"}
    settings, ink2, mask2, path = cm.parse_session(data, base)
    assert settings.seed == 5 and np.array_equal(ink2, ink) and np.array_equal(mask2, mask) and path is None
    assert set(cm.session_dict(None, ink, None)) == {"drawing"}  # no model yet: no settings
    settings, _, mask3, _ = cm.parse_session(cm.session_dict(None, ink, None), base)
    assert settings == base and not mask3.any()  # no mask: the mask is cleared
    _, ink4, _, path = cm.parse_session({"drawing_file": "drawings/digit3_0.png"}, None)
    assert ink4 is None and path == cm.DEFAULT_DRAWING
    with pytest.raises(ValueError, match="unreadable"):
        cm.parse_session({"drawing": "bm90IGEgcG5n"}, base)
    with pytest.raises(ValueError, match="no drawing"):
        cm.parse_session({"drawing_file": "drawings/none.png"}, base)
    with pytest.raises(ValueError, match="steps"):
        cm.parse_session({"settings": {"steps": 0}, "drawing": data["drawing"]}, base)


def test_autosave_files_and_convention(tmp_path):
    assert cm.read_drawing(tmp_path / "none") is None
    ink = np.full((280, 280, 3), 7, np.uint8)
    mask = np.zeros((280, 280), np.uint8)
    cm.write_drawing(tmp_path / "as", ink, mask)
    got = cm.read_drawing(tmp_path / "as")
    assert np.array_equal(got[0], ink) and np.array_equal(got[1], mask)
    assert not list((tmp_path / "as").glob("*.tmp.png"))
    light = np.full((20, 20, 3), 250, np.uint8)
    assert cm.follow_convention(light, dark_canvas=True).max() == 5  # light paper onto a dark canvas: inverted
    assert cm.follow_convention(light, dark_canvas=False).max() == 250
    img, label = cm.real_digit(7)
    assert img.shape == (28, 28) and 0 <= label <= 9
