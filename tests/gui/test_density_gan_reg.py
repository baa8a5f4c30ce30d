"""The density lab's GAN regulariser option (R1 / CLC, ``training.gan_reg``): the state's overrides, and a live
training whose checkpoint metadata records the chosen weight."""
import pytest

from genviz.gui.engine import Engine
from genviz.gui.panels.density import DensityPanel
from genviz.gui.panels.density.model import DensityState


def test_overrides_only_for_a_regularised_gan():
    st = DensityState(("ebm", "gan"))
    st.set("family", "gan")
    assert st.train_overrides() == {}
    st.set("gan_reg", "clc")
    assert st.set("gan_reg_weight", 50.0) == 10.0          # clamped to GAN_REG_WEIGHT
    assert st.train_overrides() == {"clc": 10.0}
    st.set("family", "ebm")
    assert st.train_overrides() == {}
    with pytest.raises(ValueError, match="unknown gan_reg"):
        st.set("gan_reg", "wgan-gp")


@pytest.fixture
def panel(qtbot):
    eng = Engine()
    eng.start()
    p = DensityPanel(eng)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    qtbot.waitUntil(lambda: p.result is not None, timeout=30000)
    yield p
    p.shutdown()
    eng.shutdown()


def test_live_gan_with_r1(panel, qtbot):
    qtbot.waitUntil(lambda: panel.family_combo.count() > 0 and not panel.busy, timeout=30000)
    panel.family_combo.setCurrentText("ebm")
    assert panel.gan_reg_combo.isHidden()
    panel.family_combo.setCurrentText("gan")
    assert not panel.gan_reg_combo.isHidden()
    panel.gan_reg_combo.setCurrentIndex(panel.gan_reg_combo.findData("r1"))
    panel.gan_reg_weight.setValue(0.5)
    panel.train_steps.setValue(20)
    with qtbot.waitSignal(panel.computed, timeout=120000):
        panel.train_live()
    t = panel.model.metadata["training"]
    assert panel.model.family == "gan" and t["r1"] == 0.5 and t["clc"] == 0.0 and t["steps_done"] == 20
