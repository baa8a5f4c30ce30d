"""The "GAN dynamics" panel: its Qt-free state (settings, verdicts, captions, sessions) and the real widget
(controls, a click on the plane, presentation mode)."""
import numpy as np
import pytest
import test_demo
from PySide6.QtCore import QPointF, Qt

from genviz.gui.panels.dynamics.model import DynamicsState

demo_ckpts, demo_window = test_demo.demo_ckpts, test_demo.demo_window  # the demo fixtures (tiny stand-ins)


def test_state_verdicts_and_captions():
    st = DynamicsState()
    assert st.behaviours == {"simultaneous": "grows", "alternating": "circles"}
    assert "spiral out" in st.caption() and "circle" in st.caption() and "friction" in st.caption()
    assert "±i" in st.eigen_text() and "No step size converges" in st.eigen_text()
    assert st.trajectories["simultaneous"].points.shape == (101, 2)
    assert st.method_line("simultaneous").startswith("simultaneous: spiral out, ×1.0198 per step")
    st.set("clc", 0.5)
    assert st.behaviours == {"simultaneous": "converges", "alternating": "converges"}
    assert "spiral in" in st.caption() and "converges for h < 0.5" in st.eigen_text()
    r = np.hypot(*(st.trajectories["alternating"].points[-1] - [st.settings.c, 0]))
    assert r < 0.01
    st.set("h", 0.8)  # now too big a step for simultaneous steps with k = 0.5 (h < 0.5)
    assert st.behaviours["simultaneous"] == "grows" and st.behaviours["alternating"] == "converges"


def test_state_start_clamp_shift_and_session():
    st = DynamicsState()
    assert st.start_at(10.0, -10.0) == (3.0, -3.0)            # clamped to the shown plane c ± 3
    st.set("c", 1.0)                                          # the start moves with the data point
    assert (st.settings.theta0, st.settings.phi0) == (4.0, -3.0) and st.theta_range() == (-2.0, 4.0)
    with pytest.raises(ValueError, match="h must be in"):
        st.set("h", 0.0)
    with pytest.raises(ValueError, match="unknown setting"):
        st.set("lr", 1.0)
    state = st.session_state()
    other = DynamicsState()
    other.restore(state)
    assert other.session_state() == state
    with pytest.raises(ValueError, match="unknown setting"):
        other.restore({"gamma": 1})


def test_panel_widget(qtbot):
    from genviz.gui.panels.dynamics import DynamicsPanel
    from genviz.panels import get_panel
    p = DynamicsPanel(None)
    qtbot.addWidget(p)
    p.resize(1300, 760)
    p.show()
    qtbot.waitExposed(p)
    assert p.run_default(4) and p.default_done()
    assert "simultaneous: spiral out" in p.readout.text()
    p.spins["r1"].setValue(1.0)                                # R1 on: both methods converge at h = 0.2
    assert p.state.settings.r1 == 1.0 and p.state.behaviours["alternating"] == "converges"
    assert "spiral in" in p.caption.text()
    p.reset_btn.click()
    assert p.spins["r1"].value() == 0.0 and p.state.behaviours["simultaneous"] == "grows"
    # a click on the plane starts the trajectories there
    vb = p.plane.getPlotItem().vb
    scene_pt = vb.mapViewToScene(QPointF(-1.0, 2.0))
    widget_pt = p.plane.mapFromScene(scene_pt)
    with qtbot.waitSignal(p.message, timeout=2000):
        qtbot.mouseClick(p.plane.viewport(), Qt.MouseButton.LeftButton, pos=widget_pt)
    assert p.state.settings.theta0 == pytest.approx(-1.0, abs=0.05)
    assert p.state.settings.phi0 == pytest.approx(2.0, abs=0.05)
    assert np.allclose(p.state.trajectories["alternating"].points[0], [p.state.settings.theta0, p.state.settings.phi0])
    assert "(-1.0" in p.start_label.text() or "(-0.9" in p.start_label.text()
    p.checks["simultaneous"].setChecked(False)
    assert p.session_state()["show"]["simultaneous"] is False
    done = []
    p.restore_session({"c": 2.0, "h": 0.5, "clc": 0.3, "theta0": 3.0, "phi0": 0.0}, lambda: done.append(1))
    assert done and p.spins["c"].value() == 2.0 and p.spins["h"].value() == 0.5
    p.set_presenting(True, 2.0)
    assert p.caption.scale == 2.0 and p.controls.width() > 250
    p.set_presenting(False)
    assert p.caption.scale == 1.0 and p.controls.width() == 250
    assert get_panel("dynamics").why_not(object()) is None



def test_preset_opens_the_panel(demo_window, qtbot):
    from genviz.presets import get_preset
    w, preset = demo_window, get_preset("why-gan-training-circles")
    done = []
    w.demo.apply_preset(preset, on_done=lambda: done.append(1))
    qtbot.waitUntil(lambda: bool(done) and w.default_action_done(), timeout=60000)
    p = w.panels()["dynamics"]
    assert w.current_panel() == "dynamics" and p.session_state() == preset["state"]
    assert p.state.behaviours == {"simultaneous": "grows", "alternating": "circles"}
