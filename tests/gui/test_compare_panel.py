"""The sampler comparison panel: its Qt-free model, the backend grid, and the widgets driven on a tiny model."""
import numpy as np
import pytest

from genviz.gui.panels.compare.model import CompareModel, CompareSettings, parse_steps


def test_settings_are_checked():
    assert parse_steps("5, 10 20") == [5, 10, 20]
    with pytest.raises(ValueError):
        parse_steps("5, ten")
    with pytest.raises(ValueError, match="step counts"):
        CompareSettings(steps=[0]).check()
    with pytest.raises(ValueError, match="not a sampler"):
        CompareSettings(samplers=["euler", "nope"]).check(["euler"])
    m = CompareModel()
    m.restore({"samplers": ["euler"], "steps": [3, 6], "seed": 4, "n": 2, "reference": "ddpm-1000"})
    assert m.session_state() == {"samplers": ["euler"], "steps": [3, 6], "seed": 4, "n": 2, "reference": "ddpm-1000"}
    assert m.chain_session(0, 1) == {"settings": {"sampler": "euler", "steps": 6, "seed": 4, "n": 2},
                                     "branches": [{"length": 6}]}


def test_run_grid_cells_curves_and_readout():
    from tinymodels_gui import tiny_digit_model

    from genviz.backend.sampler_grid import run_grid
    model = tiny_digit_model()
    states = list(run_grid(model, ["heun", "ddim"], [2, 4], n=3, seed=1))
    final = states[-1]
    assert final["done"] == final["total"] == 4
    heun2, heun4 = final["cells"][0]
    assert heun2.nfe == 3 and heun4.nfe == 7  # 2·steps − 1 evaluations
    assert heun2.images.shape == (3, 1, 28, 28) and heun2.images.dtype == np.uint8
    assert len(heun4.x_norm) == 8 and len(heun4.x0_change) == 7 and np.isnan(heun4.x0_change[0])
    assert heun4.distance == 0.0 and heun2.distance > 0  # the row's most-steps chain is its own reference
    m = CompareModel()
    m.restore({"samplers": ["heun", "ddim"], "steps": [2, 4], "n": 3})
    m.result = final
    curves = m.curves("x_norm")
    assert len(curves) == 4 and curves[0][3][0] == 0.0 and curves[0][3][-1] == 1.0
    assert "calls" in m.cell_text(0, 0) and m.chain_session(0, 0)["branches"] == [{"length": 3}]


def test_panel_runs_exports_and_opens_a_chain(window, qtbot, tmp_path):
    p = window.compare_panel
    window.set_panel("compare")
    assert p.supported()
    p.restore_session({"samplers": ["ddim", "ode-heun"], "steps": [2, 3], "seed": 0, "n": 2})
    p.run()
    qtbot.waitUntil(lambda: p.default_done() and p.state.result is not None, timeout=60000)
    assert p.state.result["done"] == 4 and p.state.cell(1, 1).images is not None
    assert len(p.plots["x_norm"].getPlotItem().listDataItems()) == 4
    out = tmp_path / "grid.png"
    p.export_png(str(out))
    from PIL import Image
    w, h = Image.open(out).size
    assert (w, h) == (p.grid_view.sizeHint().width(), p.grid_view.sizeHint().height())
    x, y = p.grid_view._metrics()[0] + 5, p.grid_view._metrics()[1] + 5  # inside cell (0, 0)
    assert p.grid_view.cell_at(x, y) == (0, 0)
    p.open_chain(1, 0)
    assert window.current_panel() == "chain"
    c = window.chain_panel
    qtbot.waitUntil(lambda: len(c.state.history()) == 3, timeout=30000)  # record 0 + 2 steps of ode-heun
    assert c.sampler_combo.currentData() == "ode-heun" and c.steps_spin.value() == 2
    p.set_presenting(True, 2.0)
    assert p.grid_view.zoom == 2 and p.caption.scale == 2.0
    p.set_presenting(False)
    assert p.grid_view.zoom == 1 and p.caption.scale == 1.0


def test_chain_runner_branches_a_scheduler_chain_with_its_history():
    """The chain panel's runner: a Heun chain records 2·steps − 1 calls; a branch from record 2 (mid-way through a
    Heun step) with the same sampler continues exactly where the parent went (the scheduler state travels)."""
    import torch
    from tinymodels_gui import tiny_digit_model

    from genviz.gui.chain_runner import ChainRunner, LoadedModel
    from genviz.gui.chain_state import ChainState
    runner = ChainRunner(ChainState())
    runner.set_model(LoadedModel(tiny_digit_model()))
    b = runner.new_chain("heun", 3, 2, 0, {})
    assert b.total_steps == 5 and b.steps == 3  # the chain panel's "steps" stays what the user asked for
    while not b.done and b.gen is not None:
        runner.step()
    assert len(b.records) == 6
    c = runner.branch_from(b, 2, "heun", {}, seed=11)
    assert c.total_steps == 5
    while c.gen is not None:
        runner.step()
    assert all(torch.equal(x.x, y.x) for x, y in zip(c.records, b.records[2:]))
    with pytest.raises(ValueError, match="continues only"):
        runner.branch_from(b, 2, "euler", {}, seed=1)


def test_run_grid_with_a_ddpm_reference():
    """reference="ddpm-1000": one full-length DDPM chain (T steps, here T = 50) from the same x_T first."""
    from tinymodels_gui import tiny_digit_model

    from genviz.backend.sampler_grid import run_grid
    model = tiny_digit_model(num_train_timesteps=50)
    gen = run_grid(model, ["ddim"], [2, 5], n=2, seed=0, reference="ddpm-1000")
    first = next(gen)  # the same growing dict every time: read it before stepping on
    assert first["done"] == 1 and first["ref_cell"].nfe == 50
    final = first
    for final in gen:
        pass
    assert final["done"] == final["total"] == 3
    assert all(c.distance is not None and c.distance > 0 for c in final["cells"][0])
    with pytest.raises(ValueError, match="reference"):
        next(run_grid(model, ["ddim"], [2], reference="nope"))
