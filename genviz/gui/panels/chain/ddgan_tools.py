"""The chain panel's tools for denoising diffusion GAN chains (a ``ChainPanel`` mixin): **Resample z** keeps the
shown x_t and draws K new x̂₀ = G(x_t, z, t) (thesis Fig. 6.8), shown in the right-hand view; **Perturb a real
digit** noises a held-out digit to every t and draws K x̂₀ from each (Figs. 6.14–6.15), in a dialog.
Both are offered only when the shown branch's sampler is of the ``ddgan`` kind; torch runs on the engine thread."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from ...widgets.caption import make_caption
from ...widgets.image_grid import ImageGrid
from ...widgets.pixmaps import array_to_pixmap

K_DEFAULT = 16


def ddgan_chain(branch) -> bool:
    """True when ``branch`` runs a sampler of the ``ddgan`` kind (a GAN draw per step)."""
    from ....backend.samplers import get_sampler
    return branch is not None and get_sampler(branch.sampler).kind == "ddgan"


def shown_state_index(rec) -> int | None:
    """The timestep index of a record's state x (its ``t_next``; record 0: ``t``); None or −1 means clean."""
    if rec is None:
        return None
    return rec.t if rec.index == 0 else rec.t_next


class ChainDDGANTools:
    """Builds ``self.gan_box`` (K spin, Resample z, Perturb a real digit) and runs them."""

    def _build_ddgan_tools(self, layout) -> None:
        box = QGroupBox("GAN step")
        bl = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Draws K"))
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 64)
        self.k_spin.setValue(K_DEFAULT)
        self.k_spin.setToolTip("how many new guesses to draw (K new latents z)")
        row.addWidget(self.k_spin, 1)
        bl.addLayout(row)
        self.resample_btn = QPushButton("Resample z")
        self.resample_btn.setToolTip("keep the noisy image shown and let the GAN guess its clean version K more "
                                     "times, each with a new random z (x̂₀ = G(x_t, z, t))")
        self.perturb_btn = QPushButton("Perturb a real digit…")
        self.perturb_btn.setToolTip("noise a real held-out digit (number = the seed) to every step and let the GAN "
                                    "guess it back K times: how much of the digit survives each noise level")
        bl.addWidget(self.resample_btn)
        bl.addWidget(self.perturb_btn)
        self.resample_btn.clicked.connect(self.resample_z)
        self.perturb_btn.clicked.connect(self.perturb_digit)
        self.gan_box = box
        box.setVisible(False)
        layout.addWidget(box)
        self.resample_grid = ImageGrid("K new x̂₀")
        self.resample_grid.setMinimumSize(240, 240)
        self.right_stack.addWidget(self.resample_grid)
        self.perturb_dialog: QDialog | None = None

    def update_ddgan_tools(self, rec, branch) -> None:
        """Show the box for ddgan chains; Resample z needs a noisy state (not the clean end)."""
        on = ddgan_chain(branch)
        self.gan_box.setVisible(on)
        t = shown_state_index(rec)
        self.resample_btn.setEnabled(on and t is not None and t >= 0)

    def resample_z(self) -> bool:
        """Draw K new x̂₀ from the shown x_t of the selected sample (engine thread); False when not applicable."""
        rec, b = self.state.shown_record(), self.state.branch
        t = shown_state_index(rec)
        if not ddgan_chain(b) or t is None or t < 0:
            self.message.emit("Resample z needs a denoising diffusion GAN chain at a noisy step", True)
            return False
        sel = min(self.state.selected, rec.x_u8.shape[0] - 1)
        k, seed, model, pos = self.k_spin.value(), self.seed_spin.value(), self.model, rec.index

        def task():
            import torch
            x = self.runner.exact_x(b, pos)[sel:sel + 1].clone()  # kept or replayed (gui.history keyframes)

            from ....backend.samplers.ddgan import resample_x0
            out = resample_x0(model, x, int(t), k, torch.Generator().manual_seed(seed + 1))[0]
            return self.runner._u8(out)

        def done(u8: np.ndarray) -> None:
            self.resample_grid.set_title(f"<b>{k} new x̂<sub>0</sub></b> &nbsp;from the same x<sub>t</sub> "
                                         f"(sample #{sel}, t = {t})")
            self.resample_grid.set_images(u8)
            self.right_stack.setCurrentWidget(self.resample_grid)
            self.caption.setText(f"Same noisy image, {k} new random z: each is a different clean guess the GAN "
                                 "thinks fits. Many different digits means this step is still undecided; near-"
                                 "copies mean the noisy image already fixes the digit.")
            self.message.emit(f"resampled z {k} times at t = {t}", False)

        self.engine.submit(task, done, self._failed)
        return True

    def perturb_digit(self) -> bool:
        """Noise held-out digit #(seed mod 1000) to every t and draw K x̂₀ from each; shows a dialog."""
        if not ddgan_chain(self.state.branch):
            return False
        index, k, model = self.seed_spin.value() % 1000, self.k_spin.value(), self.model

        def task():
            from ....backend.ddgan_edit import perturb_heldout
            p, label = perturb_heldout(model, index, k, seed=index)
            rows = []
            for i in range(p.x_t.shape[0]):
                imgs = np.concatenate([self.runner._u8(p.x0), self.runner._u8(p.x_t[i]), self.runner._u8(p.x0_hat[i, 0])])
                rows.append(imgs)
            return rows, label

        self.engine.submit(task, lambda r: self._show_perturbation(*r, index=index, k=k), self._failed)
        return True

    def _show_perturbation(self, rows, label: int, index: int, k: int) -> None:
        from ....backend.imaging import make_grid
        if self.perturb_dialog is not None:
            self.perturb_dialog.close()
            self.perturb_dialog.deleteLater()
        dlg = QDialog(self)
        self.perturb_dialog = dlg
        lay = QGridLayout(dlg)
        dlg.setWindowTitle(f"Perturb a real digit: held-out #{index} (a {label})")
        lay.addWidget(QLabel("<b>noise step</b>"), 0, 0)
        lay.addWidget(QLabel(f"<b>real digit · noised to t · {k} GAN guesses of the clean digit</b>"), 0, 1)
        for i, imgs in enumerate(rows):
            name = QLabel(f"t = {i + 1}")
            name.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            lay.addWidget(name, i + 1, 0)
            strip = QLabel()
            strip.setPixmap(array_to_pixmap(make_grid(imgs, nrow=len(imgs), pad=2, scale=2, pad_value=64)))
            lay.addWidget(strip, i + 1, 1)
        cap = make_caption()
        cap.setText("Top row: a little noise, and every guess is the same digit. Going down, more noise hides it: the "
                    "guesses spread over other digits, and at the last step they no longer depend on the real one.")
        lay.addWidget(cap, len(rows) + 1, 0, 1, 2)
        dlg.show()

