"""Presentation mode for an audience: legible text (>= 24 px at 1920x1080), nothing clipped, the controls a demo
refers to visible, every setting back after leaving, and progress shown while a demo is set up."""
import test_demo
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QComboBox, QPushButton, QStyle, QStyleOptionComboBox

from genviz.gui.widgets.scaling import plot_items

demo_ckpts, demo_window = test_demo.demo_ckpts, test_demo.demo_window  # the demo fixtures (tiny stand-ins)

MIN_PX = 24


def _html_px(text_item) -> int:
    """The largest font size (px) in a QGraphicsTextItem's document (pyqtgraph titles and axis labels)."""
    doc, out = text_item.document(), 0
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            out = max(out, QFontInfo(it.fragment().charFormat().font()).pixelSize())
            it += 1
        block = block.next()
    return out


def _present(w, qtbot):
    w.demo.present_action.setChecked(True)
    w.showNormal()
    w.resize(1920, 1080)
    qtbot.waitUntil(lambda: w.width() == 1920 and w.demo.presenter.scale >= 2.0, timeout=5000)


def _plot_text_px(item) -> list[int]:
    """Title, axis-label and tick-label sizes (px) of the shown texts of a PlotItem."""
    sizes = [_html_px(item.titleLabel.item)] if item.titleLabel.isVisible() else []
    for name in ("left", "bottom"):
        ax = item.getAxis(name)
        if ax.isVisible() and ax.style["showValues"]:
            sizes.append(QFontInfo(ax.style["tickFont"] or ax.font()).pixelSize())
        if ax.label.isVisible():
            sizes.append(_html_px(ax.label))
    return sizes


def _run_preset(w, qtbot, name):
    done = []
    w.demo.apply_preset(w.demo.preset(name), on_done=lambda: done.append(1))
    qtbot.waitUntil(lambda: bool(done) and w.default_action_done(), timeout=60000)


def test_leaving_restores_every_setting(window, qtbot):
    """Font, hidden controls, speed (index and the chain's step interval, also after Esc), geometry, the control
    column, the splitter, caption and plot sizes."""
    w, p = window, window.chain_panel
    w.set_panel("chain")
    w.resize(1500, 950)
    p.speed_combo.setCurrentIndex(0)
    qtbot.wait(50)
    before = {"font": w.font().pointSizeF(), "geometry": w.geometry(), "controls": p.controls.width(),
              "split": round(p.split.sizes()[0] / sum(p.split.sizes()), 2), "caption": p.caption.text_px(),
              "dock": w.dock.isVisible(), "plots": [_plot_text_px(i) for i in plot_items(w)], "interval": p.state.step_interval}
    _present(w, qtbot)
    assert p.speed_combo.currentIndex() == 1 and p.state.step_interval == 0.25
    assert p.caption.text_px() >= MIN_PX and not w.dock.isVisible()
    p.speed_combo.setCurrentIndex(2)  # the presenter changes the speed too
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert not w.demo.presenting and not w.isFullScreen()
    assert p.speed_combo.currentIndex() == 0 and p.state.step_interval == before["interval"] == 0.0
    qtbot.wait(50)
    after = {"font": w.font().pointSizeF(), "geometry": w.geometry(), "controls": p.controls.width(),
             "split": round(p.split.sizes()[0] / sum(p.split.sizes()), 2), "caption": p.caption.text_px(),
              "dock": w.dock.isVisible(), "plots": [_plot_text_px(i) for i in plot_items(w)], "interval": p.state.step_interval}
    assert after == before


def test_text_is_legible_at_1080p(demo_window, qtbot):
    """Captions, grid titles and every plot's title, axis and tick labels >= 24 px, in every panel (density by
    the generic part); the grids get most of the chain panel's height."""
    w = demo_window
    _run_preset(w, qtbot, "ddpm-vs-ddim")
    _present(w, qtbot)
    qtbot.wait(100)
    for name, panel in w.panels().items():
        assert QFontInfo(panel.caption.font()).pixelSize() >= MIN_PX, name
    p = w.chain_panel
    for g in (p.x_grid, p.x0_grid):
        assert _html_px(g.label.item) >= MIN_PX
    texts = [(item.titleLabel.text, _plot_text_px(item)) for item in plot_items(w)]
    texts = [(t, sizes) for t, sizes in texts if sizes]  # (plots that show no text at all are left out)
    assert len(texts) >= 5 + 1 + 1  # chain plots and bars, the norm plot, density's figure
    for title, sizes in texts:
        assert min(sizes) >= MIN_PX, (title, sizes)
    assert p.x_grid.height() > 0.5 * p.split.height()
    w.demo.present_action.setChecked(False)
    assert all(max(_plot_text_px(i), default=0) < MIN_PX for i in plot_items(w))


def test_branch_selector_visible_in_ddpm_vs_ddim(demo_window, qtbot):
    w = demo_window
    _run_preset(w, qtbot, "ddpm-vs-ddim")
    _present(w, qtbot)
    p = w.chain_panel
    assert p.branch_combo.isVisible() and p.branch_label.isVisible() and p.branch_combo.count() == 2
    assert p.plots.isVisible()  # "the faint curves are the other branch"
    # the restored session shows branch 2 (DDPM): the controls show its settings, so no "Changed …" line
    assert p.state.active == 1 and p.sampler_combo.currentData() == "ddpm" and p.pending_settings() == ""


def test_control_column_texts_are_not_clipped(demo_window, qtbot):
    w = demo_window
    _run_preset(w, qtbot, "ddpm-vs-ddim")
    _present(w, qtbot)
    p = w.chain_panel
    p.seed_spin.setValue(p.seed_spin.value() + 1)  # makes the orange "Changed …" line appear
    p.undo_btn.setVisible(True)  # shown after a Reset: it must fit too
    p.run_btn.setText("Running…")
    qtbot.wait(200)
    checked = 0
    for b in p.controls.findChildren(QPushButton) + p.controls.findChildren(QComboBox):
        if not b.isVisible():
            continue
        if isinstance(b, QPushButton):  # the whole text, with the button's own margins
            assert b.width() >= b.sizeHint().width(), (b.text(), b.width(), b.sizeHint().width())
            assert b.fontMetrics().horizontalAdvance(b.text()) < b.width(), b.text()
        else:  # the shown item, next to the drop-down arrow (the list shows every item in full)
            opt = QStyleOptionComboBox()
            b.initStyleOption(opt)
            field = b.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                             QStyle.SubControl.SC_ComboBoxEditField, b)
            assert b.fontMetrics().horizontalAdvance(b.currentText()) <= field.width(), (b.currentText(), field)
        checked += 1
    assert checked >= 8
    lab = p.pending_label
    assert lab.isVisible() and lab.text().startswith("Changed")
    assert lab.height() >= lab.heightForWidth(lab.width())


def test_next_demo_shows_progress_until_ready(demo_window, qtbot):
    w = demo_window
    _run_preset(w, qtbot, "noise-to-digit")
    w.demo.preset_index = [p["name"] for p in w.demo.presets].index("langevin-digits") - 1
    w.demo.next_preset()
    ov = w.demo.overlay
    assert ov.isVisible() and ov.text().startswith("Loading mnist-ebm…")
    assert w.msg_label.text().startswith("Loading mnist-ebm…")
    assert ov.geometry() == w.tabs.rect()
    qtbot.waitUntil(lambda: not ov.isVisible(), timeout=60000)
    assert w.demo.setting_up() is None and w.msg_label.text().startswith("demo: ")
    assert w.loaded_source == "mnist-ebm"


def test_demo_on_the_loaded_checkpoint_shows_setting_up(demo_window, qtbot):
    w = demo_window
    _run_preset(w, qtbot, "noise-to-digit")
    seen = []
    w.chain_panel.state.stop()
    orig = w.chain_panel.restore_session

    def spy(data, on_done=None):
        seen.append((w.demo.overlay.isVisible(), w.demo.overlay.text()))
        orig(data, on_done)
    w.chain_panel.restore_session = spy
    done = []
    w.demo.apply_preset(w.demo.preset("ddpm-vs-ddim"), on_done=lambda: done.append(1))
    qtbot.waitUntil(lambda: bool(done), timeout=60000)
    assert seen and seen[0][0] and seen[0][1].startswith("Setting up the demo…")
    assert not w.demo.overlay.isVisible()
