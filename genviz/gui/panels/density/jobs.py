"""The density panel's long work, as engine jobs: live training (progress, loss curve, previews), particle
chains (the newest frame), latent paths; and cancelling them. A mixin of ``DensityPanel`` (it uses the panel's
widgets, ``state``, ``engine``, ``model`` and ``dataset``); nothing here is shared with the engine thread except
through ``engine.submit`` / ``engine.submit_job``."""
from __future__ import annotations

import numpy as np

from .model import ARROWS, MAX_DOTS, USER_BOUNDS

PREVIEW_ODE_STEPS = 20   # diffusion previews while training: a cheaper probability-flow ODE


class DensityJobs:
    """Training, particle chains and latent paths of ``DensityPanel``."""

    # ---- long work (engine.submit_job) -----------------------------------------------------------------
    def _set_running(self, on: bool) -> None:
        for w in (self.train_btn, self.run_btn, self.recompute_btn, self.dataset_combo):
            w.setEnabled(not on)
        self.cancel_btn.setEnabled(on)

    def _show_progress(self) -> None:
        self.progress.setValue(self.state.progress_value)
        self.progress.setFormat(self.state.progress_text)

    def cancel(self) -> None:
        """Stop a running training or particle chain (the engine closes it before its next step)."""
        job, self._job = self._job, None
        if job is None or not job.active:
            return
        job.cancel()
        st = self.state
        if st.training:
            st.training_stopped(None)
            self._training_ended()
        elif st.chain_running:
            self._draw_particles()          # the last delivered frame, then the label says "cancelled"
            st.chain_done(None if st.live is None else (st.live.step, st.live.steps), cancelled=True)
            self.chain_label.setText(st.chain_text)
        self._set_running(False)

    def train_live(self) -> None:
        """Train a model of the chosen family on the chosen dataset (``train_steps`` steps) as an engine job:
        progress, a loss curve and, about every second, the model being trained redrawn; then show it."""
        if self.dataset is None:
            self._status("paint some data first")
            return
        s = self.state.settings
        ds, fam, steps, res, t = self.dataset, s.family, s.train_steps, s.res, s.t
        overrides = self.state.train_overrides()   # e.g. the GAN's R1 / CLC weight
        name = ds.name                      # the dataset object's own name ("user" for a painted one)
        self.state.start_training()
        self._label_before_training = self.model_label.text()
        self.model_label.setText(f"training <b>{fam}</b> on {name} live ({steps} steps)…")
        self._set_running(True)
        self._show_progress()
        self._status()
        self.loss_curve.clear_points()
        self.loss_curve.setVisible(True)
        self.plot.hide_particles()        # the previous model's particles, picture and readouts go at once
        self.plot.show_moves(None)
        self.chain_label.setText("")
        self.redraw()
        self._show_readouts()

        def job():
            from genviz.backend.toy.live import train_live
            from genviz.backend.toy.views import compute_views

            def preview(m):
                return compute_views(m, ds, res=res, score_t=t, ode_steps=PREVIEW_ODE_STEPS, with_readouts=False)
            return train_live(name, fam, steps, dataset_obj=ds, view_fn=preview, **overrides)

        self._job = self.engine.submit_job(job, self._train_progressed, self._trained, self._train_failed)

    def _train_progressed(self, p: dict) -> None:
        new_preview = self.state.on_training(p)
        self._show_progress()
        self.loss_curve.set_points(self.state.loss_history)
        if new_preview:
            self.redraw()

    def _trained(self, model) -> None:
        self._job = None
        msg = self.state.training_done(model)
        self._set_running(False)
        self._show_progress()
        self.message.emit(msg, False)
        self._show_model(model, keep_preview=True)
        self.modelTrained.emit(model)

    def _train_failed(self, msg: str) -> None:
        self._job = None
        self.state.training_stopped(msg)
        self._training_ended()
        if "cancelled" not in msg:
            self.message.emit(msg, True)

    def _training_ended(self) -> None:
        """A training was cancelled or failed: the shown model's views, label and readouts come back."""
        self._set_running(False)
        self._show_progress()
        self._status()
        self.model_label.setText(getattr(self, "_label_before_training", self.model_label.text()))
        self.redraw()
        self._show_readouts()

    def run_chain(self) -> None:
        """Run the model's default sampler with ``n`` particles as an engine job; the timer draws the newest
        frame (dots with short trails up to 5k, a density image above)."""
        if self.model is None:
            self._status("load or train a model first")
            return
        st = self.state
        model, n, slow, seed = self.model, st.settings.n, st.settings.slow, st.next_chain_seed()
        bounds = self.dataset.bounds if self.dataset is not None else USER_BOUNDS
        st.start_chain()
        self._set_running(True)

        def job():
            from genviz.backend.toy.views import particle_frames
            return particle_frames(model, n, seed, bounds=bounds, arrows=ARROWS, dots_limit=MAX_DOTS,
                                   delay_s=0.02 if slow else 0.0)

        self._job = self.engine.submit_job(job, st.on_frame, self._chain_done, self._chain_failed)

    def _chain_done(self, last) -> None:
        self._job = None
        self._draw_particles()
        self.state.chain_done(last)
        self._set_running(False)
        self.chain_label.setText(self.state.chain_text)

    def _chain_failed(self, msg: str) -> None:
        self._job = None
        self.state.chain_done(None)
        self._set_running(False)
        self._failed(msg)

    # ---- latent paths (flows, toy VAE/GAN) -------------------------------------------------------------
    def has_latent(self) -> bool:
        """Whether the loaded model has a latent to walk in (a flow's base noise, a toy VAE/GAN code)."""
        return self.model is not None and callable(getattr(self.model, "decode", None))

    def draw_latent_path(self) -> None:
        """Walk from z_A to z_B (seeds, ``path_method``, ``path_frames`` frames) in the model's latent and draw
        the path in latent space (small plot) and its image in data space (main plot), on the engine thread.
        Same paths as the interpolation panel (``genviz.backend.interpolation``)."""
        if not self.has_latent():
            self._status("latent paths need a model with a latent: a flow, or a toy VAE or GAN")
            return
        s = self.state.settings
        model, method, frames, sa, sb = self.model, s.path_method, s.path_frames, s.path_seed_a, s.path_seed_b

        def task():
            from genviz.backend.interpolation import interpolate, latent_space
            space = latent_space(model)
            res = interpolate(space, [space.seed_latent(sa), space.seed_latent(sb)], method, frames)
            return {"z": res["latents"].reshape(frames, -1).numpy(), "x": res["unit"].reshape(frames, -1),
                    "model": model, "method": method}

        self._status(f"walking {method} from z_{sa} to z_{sb}…")
        self.engine.submit(task, self._path_done, self._failed)

    def _path_done(self, res: dict) -> None:
        if res["model"] is not self.model:
            return
        self.state.latent_path = res
        z, x = res["z"][:, :2], res["x"][:, :2]
        self.path_box.show_path(z)
        self.plot.show_path(x)
        norms = np.linalg.norm(res["z"], axis=1)
        self._status(f"{res['method']} path, {len(z)} frames: ‖z‖ from {norms.min():.2f} to {norms.max():.2f} "
                     "(orange: in latent space, small plot; in data space, big plot)")

    def clear_latent_path(self) -> None:
        """Forget and hide the latent path."""
        self.state.latent_path = None
        self.path_box.show_path(None)
        self.plot.show_path(None)
