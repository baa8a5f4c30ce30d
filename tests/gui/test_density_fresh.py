"""The density panel never shows a stale or misleading view (offscreen, real widgets): a newly shown model
clears the previous one's particles, picture and readouts at once; live training starts without a NaN loss,
tells its family's default steps, and hands the trained model on (``modelTrained``); readouts sit in view at
the window's default size; the legend is legible; the image has a colour bar with its units."""
import numpy as np
import pyqtgraph as pg
import pytest

from genviz.backend.training.toy import LIVE, train
from genviz.gui.engine import Engine
from genviz.gui.panels.density import DensityPanel

TINY = {"ebm": dict(hidden=16, K=5), "flow": dict(hidden=16, transforms=2, bins=4)}


@pytest.fixture(scope="module")
def tiny_models():
    return {f: train("8gaussians", f, 15, None, log=None, **kw) for f, kw in TINY.items()}


@pytest.fixture
def panel(qtbot):
    eng = Engine()
    eng.start()
    p = DensityPanel(eng)
    qtbot.addWidget(p)
    p.resize(1100, 790)       # the Density tab of a 1440×900 window (dock and menus take the rest)
    p.show()
    qtbot.waitUntil(lambda: p.result is not None and bool(p.state.live_steps), timeout=30000)
    yield p
    p.shutdown()
    eng.shutdown()


def _set(p, qtbot, model):
    with qtbot.waitSignal(p.computed, timeout=120000):
        p.set_model(model)


def _chain(p, qtbot):
    p.slow_check.setChecked(False)
    p.n_spin.setValue(200)
    p.run_chain()
    qtbot.waitUntil(lambda: not p.chain_running, timeout=30000)
    p._draw_particles(force=True)
    assert len(p.particle_dots.data) == 200


def test_another_model_clears_the_previous_views_at_once(panel, qtbot, tiny_models):
    _set(panel, qtbot, tiny_models["ebm"])
    _chain(panel, qtbot)
    assert panel.image.isVisible() and "modes covered" in panel.readout.text()
    old = panel.readout.text()
    panel.set_model(tiny_models["flow"])            # before the new views come in:
    assert len(panel.particle_dots.data) == 0 and not panel.image.isVisible() and len(panel.sample_dots.data) == 0
    assert panel.result is None and panel.readout.text() != old and "computing" in panel.readout.text()
    assert panel.chain_label.text() == "" and "(flow)" in panel.model_label.text()
    assert not panel.default_done()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60000)
    assert panel.result["model"] is tiny_models["flow"] and "modes covered" in panel.readout.text()


def test_live_training_replaces_the_old_picture_starts_without_nan_and_hands_the_model_on(panel, qtbot,
                                                                                         tiny_models):
    _set(panel, qtbot, tiny_models["ebm"])
    _chain(panel, qtbot)
    panel.family_combo.setCurrentText("vae")
    assert panel.train_steps.value() == LIVE["vae"].steps and "vae" in panel.train_note.text()
    panel.train_steps.setValue(40)
    panel.train_live()
    fmt = panel.progress.format()
    assert "starting" in fmt and "nan" not in fmt.lower()
    assert len(panel.particle_dots.data) == 0 and not panel.image.isVisible()      # not the EBM's picture
    assert "training" in panel.readout.text() and "modes covered" not in panel.readout.text()
    assert "training" in panel.model_label.text() and "vae" in panel.model_label.text()
    with qtbot.waitSignal(panel.modelTrained, timeout=120000) as sig:
        pass
    (model,) = sig.args
    assert model is panel.model and model.family == "vae" and model.name == "live-8gaussians-vae"
    qtbot.waitUntil(lambda: panel.result is not None and panel.result["model"] is model, timeout=60000)
    assert "modes covered" in panel.readout.text() and "live-8gaussians-vae" in panel.model_label.text()


def test_each_family_shows_its_live_default_steps(panel):
    for fam, live in LIVE.items():
        panel.family_combo.setCurrentText(fam)
        assert panel.state.settings.family == fam and panel.train_steps.value() == live.steps
        assert str(live.steps) in panel.train_note.text()


def test_readouts_are_in_view_at_the_default_window_size(panel, qtbot, tiny_models):
    _set(panel, qtbot, tiny_models["flow"])
    qtbot.wait(50)
    for w in (panel.readout, panel.status):
        assert w.isVisible()
    r = panel.readout
    assert not r.visibleRegion().isEmpty() and r.visibleRegion().boundingRect().height() >= r.height() - 1
    bottom = r.mapTo(panel, r.rect().bottomLeft()).y()
    assert bottom <= panel.height() and "modes covered" in r.text()


def test_legend_text_is_light_on_a_dark_box(panel):
    items = panel.plot.legend.items
    assert len(items) == 3
    for _, label in items:     # (no colour of its own: pyqtgraph's foreground, mid grey)
        c = label.opts.get("color")
        assert pg.mkColor(pg.getConfigOption("foreground") if c is None else c).lightness() >= 200
    box = panel.plot.legend.opts["brush"].color()
    assert box.lightness() <= 40 and box.alpha() >= 150


def test_image_has_a_colour_bar_with_units(panel, qtbot, tiny_models):
    from genviz.backend.toy.views import image_levels
    _set(panel, qtbot, tiny_models["flow"])
    bar = panel.plot.colorbar
    assert bar.shown and "log p(x) (nats)" in bar.label
    _, lo, hi = image_levels(panel.result["logp"], log=True)
    assert bar.levels() == pytest.approx((lo, hi))
    views = [panel.image_combo.itemData(i) for i in range(panel.image_combo.count())]
    panel.image_combo.setCurrentIndex(views.index("density"))
    assert bar.shown and "per unit area" in bar.label
    assert bar.levels()[1] == pytest.approx(float(np.max(panel.result["density"])))
    panel.image_combo.setCurrentIndex(views.index("none"))
    assert not bar.shown
    _set(panel, qtbot, tiny_models["ebm"])
    panel.image_combo.setCurrentIndex(views.index("logp"))
    assert bar.shown and bar.label.startswith("−E(x)")


def test_training_caption_says_the_picture_updates_while_training():
    from genviz.gui.captions import density_caption
    text = density_caption("flow", "moons", "logp", False, None, None, training=True)
    assert "when it finishes" not in text.split("readouts")[0] and "learn" in text
