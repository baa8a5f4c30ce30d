"""Demo mode: every preset runs to completion, sessions restore the same pixels, presentation mode hides and
restores the configured controls, captions follow the chain step."""
import json

import numpy as np
import pytest
import torch

from genviz.gui import captions
from genviz.gui.main_window import MainWindow
from genviz.presets import PresetError, get_preset, list_presets, presentation_config


@pytest.fixture
def demo_ckpts(ckpt_dir, tmp_path, monkeypatch):
    """Tiny stand-ins named like the bundled models, so presets run in seconds; slow motion off."""
    import shutil

    from safetensors.torch import load_file

    import genviz.backend.checkpoints as ck
    import genviz.gui.panels.chain.layout as chain_mod
    from genviz.backend import read_metadata, save_checkpoint
    from genviz.backend.nets.energy import ConvEnergy
    d = tmp_path / "bundled"
    d.mkdir()
    shutil.copy(ckpt_dir / "mnist-classifier.safetensors", d)
    clf_meta = read_metadata(ckpt_dir / "mnist-classifier.safetensors")
    for k in ("format", "format_version"):
        clf_meta.pop(k, None)
    save_checkpoint(d / "mnist-guide.safetensors", load_file(ckpt_dir / "mnist-classifier.safetensors"),
                    {**clf_meta, "name": "mnist-guide"})
    meta = read_metadata(ckpt_dir / "tiny.safetensors")
    meta.update(name="mnist-ddpm")
    for k in ("format", "format_version"):
        meta.pop(k, None)
    save_checkpoint(d / "mnist-ddpm.safetensors", load_file(ckpt_dir / "tiny.safetensors"), meta)
    torch.manual_seed(0)
    save_checkpoint(d / "mnist-ebm.safetensors", ConvEnergy(in_channels=1, width=4).state_dict(), {
        "name": "mnist-ebm", "family": "ebm", "network": {"class": "ConvEnergy", "config": {"in_channels": 1, "width": 4}},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
        "energy": {"sign": "energy"}, "sampler": {"name": "ula", "steps": 30, "step_size": 0.5, "convention": "B",
                                                  "noise_scale": 0.1}, "training": {"recipe": "test"}})
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from latenttiny import tiny_vae_net, vae_meta
    save_checkpoint(d / "mnist-vae.safetensors", tiny_vae_net().state_dict(), {**vae_meta(), "name": "mnist-vae"})
    from colourtiny import genviz_ddpm
    genviz_ddpm(d / "emoji-ddpm.safetensors", name="emoji-ddpm")  # the colour preset's model
    # 2-D toy checkpoints are small and load instantly: the density presets use the bundled ones
    for p in Path(ck.CHECKPOINT_DIR).glob("toy-*.safetensors"):
        shutil.copy(p, d)
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", d)
    monkeypatch.setattr(chain_mod, "SPEEDS", tuple((label, 0.0) for label, _ in chain_mod.SPEEDS))
    return d


@pytest.fixture
def demo_window(qtbot, demo_ckpts):
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    assert not w.engine.isRunning()


def test_presets_are_data_and_listed():
    presets = list_presets()
    names = [p["name"] for p in presets]
    assert {"noise-to-digit", "ddpm-vs-ddim", "langevin-digits"} <= set(names)
    assert len(names) == len(set(names))
    for p in presets:
        assert p["title"] and len(p["description"]) > 40
    with pytest.raises(PresetError, match="available"):
        get_preset("no-such-demo")


def _presets_by_panel(*panels):
    return [p["name"] for p in list_presets() if p["panel"] in panels]


def _finished(w, panel: str) -> bool:
    if panel == "chain":
        return w.chain_panel.state.status == "done"
    return w.default_action_done()


@pytest.mark.parametrize("name", _presets_by_panel("chain", "interpolation", "canvas", "density"))
def test_every_preset_runs_to_completion(demo_window, qtbot, name):
    w = demo_window
    preset = get_preset(name)
    done = []
    w.demo.apply_preset(preset, on_done=lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=30000)
    assert w.current_panel() == preset["panel"] and w.loaded.model.name == preset["checkpoint"]
    qtbot.waitUntil(lambda: _finished(w, preset["panel"]), timeout=60000)
    assert "error" not in w.last_message[0].lower() and not w.last_message[1], w.last_message
    panel = w.panels()[preset["panel"]]
    assert panel.caption.text()  # every panel says what is on screen
    if preset["panel"] == "chain":
        settings = preset["state"]["settings"]
        b = w.chain_panel.state.branches[0]
        assert b.sampler == settings["sampler"] and b.seed == settings["seed"] and b.n == settings["n"]
        assert len(w.chain_panel.state.branches) == len(preset["state"].get("branches", [{}]))
        assert all(x.done for x in w.chain_panel.state.branches)
    elif preset["panel"] == "canvas":
        assert len(panel.staging) == preset["state"]["settings"]["n"] and not panel.canvas.is_blank()
    elif preset["panel"] == "density":
        qtbot.waitUntil(lambda: not panel.chain_running, timeout=60000)
        assert panel.model is not None and panel._live is not None and panel._live[0] == panel._live[1]
        assert panel.image_combo.currentData() == preset["state"]["image"]
    elif preset["panel"] == "interpolation":
        assert panel.status == "done" and panel.method_combo.currentData() == preset["state"]["method"]


def test_session_restores_same_pixels(demo_window, qtbot, tmp_path, demo_ckpts):
    w = demo_window
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load("mnist-ddpm")
    p, st = w.chain_panel, w.chain_panel.state
    p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("ddpm"))
    p.steps_spin.setValue(12)
    p.seed_spin.setValue(5)
    p.batch_spin.setValue(4)
    p.reset()
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.total_steps == 12, timeout=10000)
    p.run()
    qtbot.waitUntil(lambda: st.status == "done", timeout=20000)
    st.scrub(5)
    p.seed_spin.setValue(9)
    p.branch_here()
    qtbot.waitUntil(lambda: len(st.branches) == 2, timeout=10000)
    for _ in range(3):
        p.step()
        qtbot.waitUntil(lambda: st.pending_steps == 0, timeout=10000)
    st.scrub(7)
    p.select_sample(2)
    shown = st.shown_record()
    path = w.demo.save_session(tmp_path / "demo")
    data = json.loads(path.read_text())
    assert path.suffix == ".genviz" and data["format"] == "genviz-session" and data["checkpoint"] == "mnist-ddpm"
    assert data["panels"]["chain"]["position"] == 7

    w2 = MainWindow(device="cpu")
    qtbot.addWidget(w2)
    w2.show()
    done = []
    w2.demo.open_session(path, on_done=lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=30000)
    st2 = w2.chain_panel.state
    assert len(st2.branches) == 2 and st2.active == 1 and st2.position == 7 and st2.selected == 2
    again = st2.shown_record()
    assert again.index == shown.index
    np.testing.assert_array_equal(again.x_u8, shown.x_u8)
    assert torch.equal(again.x, shown.x)
    assert w2.chain_panel.seed_spin.value() == 9
    # picking a branch puts its sampler and seed back in the controls
    w2.chain_panel._branch_chosen(0)
    assert st2.active == 0 and w2.chain_panel.seed_spin.value() == 5
    assert w2.chain_panel.sampler_combo.currentData() == "ddpm"
    w2.close()


def test_bad_session_file_is_refused(demo_window, tmp_path):
    bad = tmp_path / "x.genviz"
    bad.write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a genviz session"):
        demo_window.demo.open_session(bad)
    bad.write_text("not json")
    with pytest.raises(ValueError, match="not a readable session"):
        demo_window.demo.open_session(bad)


def test_presentation_mode_hides_and_restores(demo_window, qtbot):
    w = demo_window
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load("mnist-ddpm")
    cfg = presentation_config()
    controls = w.demo.hidable()
    assert all(k in controls for k in cfg["hide"]) and len(cfg["hide"]) >= 3
    hidden = []
    for k in cfg["hide"]:
        c = controls[k]
        hidden.extend(c if isinstance(c, list) else [c])
    before = [c.isVisible() for c in hidden]
    size_before = w.font().pointSizeF()
    w.demo.present_action.setChecked(True)
    assert w.demo.presenting and all(not c.isVisible() for c in hidden)
    steps = w.chain_panel.steps_spin  # a form row goes with its label
    label = steps.parentWidget().layout().labelForField(steps)
    assert label is not None and not label.isVisible()
    assert w.font().pointSizeF() == cfg["font_pt"] > size_before
    assert w.chain_panel.speed_combo.currentIndex() == cfg["speed"]
    w.demo.present_action.setChecked(False)
    assert not w.demo.presenting
    assert [c.isVisible() for c in hidden] == before and label.isVisible()
    assert w.font().pointSizeF() == size_before and w.chain_panel.speed_combo.currentIndex() == 0


def test_captions_change_with_step(demo_window, qtbot):
    w = demo_window
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load("mnist-ddpm")
    p, st = w.chain_panel, w.chain_panel.state
    qtbot.waitUntil(lambda: len(st.history()) == 1, timeout=10000)
    p.refresh()
    first = p.caption.text()
    assert first.startswith("Step 0 of 20: pure random noise")
    p.step()
    qtbot.waitUntil(lambda: len(st.history()) == 2, timeout=10000)
    p.refresh()
    assert p.caption.text().startswith("Step 1 of 20: the model removed a little noise") and p.caption.text() != first
    p.run()
    qtbot.waitUntil(lambda: st.status == "done", timeout=20000)
    p.refresh()
    assert p.caption.text().startswith("Finished: 20 steps")


def test_langevin_caption_reports_push_and_jitter():
    class B:  # a finished-less Langevin branch
        grid, sampler, total_steps, number, parent, start = "steps", "mala", 30, 1, None, 0

    class R:
        index, probs, level, sigma = 4, None, None, 0.0
        accept = 0.8
        drift_norms = np.array([2.0])
        noise_norms = np.array([1.0])
    text = captions.chain_caption(R(), B())
    assert text.startswith("Step 4 of 30:") and "2× the jitter" in text and "80%" in text


def test_preset_whose_checkpoint_fails_is_forgotten(demo_window, qtbot, tiny_ckpt):
    """A preset whose model cannot be loaded says so and is dropped: the next, unrelated load does not apply it."""
    w = demo_window
    preset = dict(get_preset("noise-to-digit"), checkpoint="no-such-model")
    done = []
    with qtbot.waitSignal(w.loadFailed, timeout=30000):
        w.demo.apply_preset(preset, on_done=lambda: done.append(True))
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(tiny_ckpt)
    qtbot.wait(200)
    assert not done and w.loaded.model.name == "tiny"


def test_caption_does_not_claim_a_digit_on_noise():
    """A classifier's 100 % on an image that is still noise (MALA from noise, step 1 of 30) is no evidence: the
    caption reports it as a guess with that caveat; late in the chain the same belief is reported plainly."""
    class B:
        grid, sampler, total_steps, number, parent, start = "steps", "mala", 30, 1, None, 0

    class R:
        index, level, sigma, accept = 1, None, 0.0, 0.0
        probs = np.eye(10)[[8]]
        drift_norms = np.array([0.1])
        noise_norms = np.array([1.0])
    early = captions.chain_caption(R(), B())
    assert "looks like" not in early and "100%" not in early and "means little" in early
    R.index = 29
    assert "already looks like a 8" in captions.chain_caption(R(), B())
