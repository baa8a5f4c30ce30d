"""The chain panel's redraw: the newest shown record into the grids, plots and captions (a ``ChainPanel`` mixin).

Runs on the GUI thread's ~30 Hz timer; reads the ``ChainState`` under its lock and draws only what changed.
"""
from __future__ import annotations

import time

import numpy as np

from ...captions import chain_caption

PLOT_INTERVAL_S = 0.25  # while a chain runs, the per-step plots redraw at most 4 times a second
DRAW_INTERVAL_S = 0.1   # ... and the grids at most 10 times a second (painting holds the GIL the engine needs)


def get_sampler(name: str):
    """The registered sampler ``name`` (imported on first use: building the window must not import torch; the
    panel draws only after a model, and so torch, is loaded)."""
    from ....backend.samplers import get_sampler as get
    return get(name)


class ChainDrawing:
    """``refresh`` (the timer slot), ``_status_text`` and ``_draw_record`` of ``ChainPanel``."""

    def refresh(self) -> None:
        """Redraw from the state when it changed (timer slot; cheap when nothing changed)."""
        st = self.state
        self.update_pending()  # the controls can change without the state changing (a restore, a branch pick)
        with st.lock:
            version = st.version
            if self._drawn is not None and self._drawn[0] == version:
                return
            if (st.running and self._drawn is not None
                    and time.perf_counter() - self._draw_time < DRAW_INTERVAL_S):
                return  # a running chain: draw its newest state on a later tick
            branches = list(st.branches)
            active = st.active
            hist = st.history()
            pos = min(st.position, max(len(hist) - 1, 0))
            rec = hist[pos] if hist else None
            selected = st.selected
            status = st.status
            error = st.error
            speed = st.steps_per_s
            b = st.branch
        self._drawn = (version,)
        self._draw_time = time.perf_counter()
        if status == "done" and self._last_status == "running" and b is not None:
            self.message.emit(f"chain finished: branch {b.number}, {b.total_steps} steps", False)
        self._last_status = status
        if error and error != self._reported_error:
            self._reported_error = error
            self.message.emit(error, True)
        # branch combo
        labels = [f"{x.number} / {len(branches)}  ({x.sampler}{', from step ' + str(x.start) if x.parent else ''})"
                  for x in branches]
        if [self.branch_combo.itemText(i) for i in range(self.branch_combo.count())] != labels:
            self.branch_combo.blockSignals(True)
            self.branch_combo.clear()
            self.branch_combo.addItems(labels)
            self.branch_combo.blockSignals(False)
            self.fit_controls()
        if self.branch_combo.currentIndex() != active:
            self.branch_combo.setCurrentIndex(active)
        # slider
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(hist) - 1, 0))
        self.slider.setValue(pos)
        self.slider.blockSignals(False)
        total = b.total_steps if b else 0
        self.pos_label.setText(f"step {pos} / {total}")
        # buttons
        if self.supported():
            can_go = status in ("paused", "running")
            self.step_btn.setEnabled(can_go)
            self.pause_btn.setEnabled(status == "running")
            self.stop_btn.setEnabled(can_go)
            self.branch_btn.setEnabled(b is not None and pos < total)
            self.run_btn.setText("Run" if status != "running" else "Running…")
            self.run_btn.setEnabled(status != "running")
        self.status_label.setText(self._status_text(status, len(branches), speed))
        self.undo_btn.setVisible(self.state.can_undo)
        self._draw_record(rec, selected, b)
        if rec is not None:
            self.recordDrawn.emit(rec.index)
        if b is not None:
            self.plots.set_keys(get_sampler(b.sampler).plots(
                has_energy=self.model is not None and self.model.traits.energy,
                has_classifier=self.loaded is not None and self.loaded.classifier is not None))
            if "p_final" in self.plots.plots:
                spec = get_sampler(b.sampler)
                judged = "x̂₀" if not spec.moves_by_drift or spec.kind == "annealed" else "x"
                what = "digit" if self.bars.classes == [str(i) for i in range(10)] else "category"
                title = (id(self.plots.plots["p_final"]), f"p(final {what} | {judged})")
                if title != self._p_final_title:  # setTitle relayouts the plot: only when it changes
                    self._p_final_title = title
                    self.plots.set_title("p_final", title[1])
            self.right_stack.setCurrentWidget(self.drift_view if get_sampler(b.sampler).moves_by_drift else self.x0_grid)
        self.update_ddgan_tools(rec, b)
        now = time.perf_counter()
        if status == "running" and now - self._plot_time < PLOT_INTERVAL_S:
            self.plots.set_position(pos)
            return
        self._plot_time = now
        plot_key = (self.plots.keys, id(b), len(hist), len(branches), sum(len(x) for x in branches), selected,
                    sum(x.revision for x in branches))
        if plot_key != self._plotted:
            self._plotted = plot_key
            self.plots.update_plots([x.history() for x in branches], active, pos, total, selected)
        else:
            self.plots.set_position(pos)

    def update_pending(self, *_) -> None:
        """Show (or hide) the "changed settings apply on Reset or Branch" line."""
        pending = self.pending_settings()
        if pending != self.pending_label.text():
            self.pending_label.setText(pending)
            self.pending_label.setVisible(bool(pending))
        if pending:  # a wrapped label in the fixed-width column: reserve its full height, or it is clipped
            lab = self.pending_label
            h = lab.heightForWidth(max(lab.width(), 1))
            if h > 0 and lab.minimumHeight() != h:
                lab.setMinimumHeight(h)

    def _status_text(self, status: str, n_branches: int, speed: float) -> str:
        text = {"empty": "no chain", "running": "running", "paused": "paused", "done": "finished",
                "stopped": "stopped"}[status]
        if status == "running" and speed > 0:
            text += f" · {speed:.1f} steps/s"
        return f"Chain {text} · {n_branches} branch{'es' if n_branches != 1 else ''}"

    def _draw_record(self, rec, selected: int, branch) -> None:
        clf = self.loaded.classifier if self.loaded is not None else None
        ds = getattr(self.model, "dataset", None)
        noun = {"mnist": "a digit", "emoji": "an emoji"}.get(ds or "", "an image")
        self.caption.setText(chain_caption(rec, branch, self.model.family if self.model else "", selected,
                                           classes=getattr(clf, "classes", None), noun=noun))
        if rec is None:
            self.x_grid.set_images(None, message="no chain")
            self.x0_grid.set_images(None, message="")
            self.bars.set_probs(None)
            self.info_label.setText("")
            return
        n = rec.x_u8.shape[0]
        selected = min(selected, n - 1)
        for g in (self.x_grid, self.x0_grid):
            g.selected = selected
        t_now = rec.t_next if rec.index > 0 else rec.t
        t_txt = "clean" if t_now is not None and t_now < 0 else (f"t = {t_now}" if t_now is not None else "")
        sig = f"σ = {rec.sigma:.3g}" if np.isfinite(rec.sigma) else ""
        shrunk = self.model is not None and rec.x_u8.shape[-1] < self.model.data_shape[-1]  # gui.history previews
        size = f"{rec.x_u8.shape[-1]} px preview" if shrunk else ""
        extra = " · ".join(x for x in (t_txt, sig, size) if x)
        from ...captions_fill import grid_titles  # pixel-by-pixel and Gibbs chains name their grids themselves
        titles = grid_titles(rec, branch)
        self.x_grid.set_title(titles[0] if titles else
                              f"<b>x<sub>t</sub></b> &nbsp;step {rec.index}" + (f" · {extra}" if extra else ""))
        self.x_grid.set_images(rec.x_u8)
        if rec.x0_u8 is None:
            self.x0_grid.set_title("<b>x̂<sub>0</sub></b> &nbsp;prediction")
            self.x0_grid.set_images(None, n=n, shape=rec.x_u8.shape[1:],
                                    message="no prediction before step 1"
                                    if rec.index == 0 or (branch and not get_sampler(branch.sampler).moves_by_drift)
                                    else "this sampler makes no x̂₀ prediction")
        else:
            self.x0_grid.set_title(titles[1] if titles else f"<b>x̂<sub>0</sub></b> &nbsp;prediction at t = {rec.t}")
            self.x0_grid.set_images(rec.x0_u8)
        judged = "x̂₀" if rec.x0_u8 is not None else "x"
        if self.bars.isVisible() or (self.loaded is not None and self.loaded.classifier is not None):
            what = "digit" if self.bars.classes == [str(i) for i in range(10)] else "category"
            self.bars.set_probs(rec.probs[selected] if rec.probs is not None else None,
                                f"p({what} | {judged}) · #{selected}")
        if self.right_stack.currentWidget() is self.drift_view:
            if rec.drift_u8 is not None:
                self.drift_view.set_terms(rec.drift_u8[selected], rec.noise_u8[selected], rec.x_u8[selected],
                                          float(rec.drift_norms[selected]), float(rec.noise_norms[selected]), selected)
            else:
                self.drift_view.clear_terms("drift vs noise: step the chain (record 0 is the initial state)")
        eps = f" · mean ‖ε̂‖ = {rec.eps_norm:.2f}" if rec.eps_norm is not None else ""
        if rec.energy is not None:
            eps += f" · mean E(x) = {rec.energy:.3g}"
        if rec.grad_norm is not None:
            eps += f" · mean ‖∇E‖ = {rec.grad_norm:.3g}"
        if rec.accept is not None:
            eps += f" · accept {rec.accept:.0%}"
        who = f"Branch {branch.number} ({branch.sampler}, seed {branch.seed})" if branch else ""
        self.info_label.setText(f"{who} · sample #{selected} selected · mean ‖x_t‖ = {rec.x_norm:.2f}{eps}")

