"""The density panel's texts without Qt: the readout strip, the colour bar's units and a Langevin move's line.
Plain Python + NumPy (``model`` re-exports these)."""
from __future__ import annotations

import numpy as np

DENSITY_SOURCES = {"neg_energy": "grid-normalised −E", "flow": "flow, exact", "ode": "probability-flow ODE",
                   "elbo": "ELBO, a lower bound", "vaebm": "grid-normalised p_VAE·e^−E"}
# the colour bar's label: what the image's colours measure, with its unit (natural logs: nats; densities: per
# unit area of the toy data plane)
LOG_UNITS = {"neg_energy": "−E(x) (nats, unnormalised)", "flow": "log p(x) (nats)",
             "ode": "log p(x) (nats, ODE)", "elbo": "ELBO(x) (nats)", "discriminator": "D(x) logit",
             "samples": "log sample density", "vaebm": "log p_VAE(x) − E(x) (nats, unnormalised)"}
IMAGE_UNITS = {"density": "p(x) (per unit area)", "data": "data p(x) (per unit area)"}


def image_units(image: str, kind: str | None) -> str:
    """The colour bar's label for the image view ``image`` (``model.IMAGE_VIEWS``) of views of ``kind``
    (``compute_views``' ``kind``, None: data only); "" for ``none``."""
    if image == "logp":
        return LOG_UNITS.get(kind or "", "log p(x) (nats)")
    return IMAGE_UNITS.get(image, "")


def _fmt(v, fmt: str = "{:+.3f}") -> str:
    return "—" if v is None else fmt.format(v)


def readout_html(readouts: dict | None) -> str:
    """The readout strip (rich text, a two-column table) for ``genviz.backend.toy.lab.readouts`` output, or a
    hint for None."""
    r = readouts
    if r is None:
        return "<i>data only: load or train a model for readouts</i>"
    src = DENSITY_SOURCES.get(r.get("density_kind"), "none: a GAN has no density")
    left = [f"<b>test log-likelihood</b> (nats/point, {src}): {_fmt(r['log_likelihood'])}",
            f"data's exact value on the same points: {_fmt(r['data_log_likelihood'])}"]
    if r.get("vae_log_likelihood") is not None:
        left.append(f"base VAE (IWAE bound): {_fmt(r['vae_log_likelihood'])}")
    if r.get("log_z") is not None:
        left.append(f"log Z (grid): {r['log_z']:.3f}")
    right = []
    mc = r.get("mode_coverage")
    if mc:
        right.append(f"<b>modes covered</b>: {mc['modes_covered']} / {mc['modes']} (≥ {mc['min_count']} within "
                     f"{mc['k']:g} std) · <b>high-quality share</b>: {100 * mc['high_quality']:.1f} %")
    right.append(f"<b>MMD²</b>: {_fmt(r['mmd2'], '{:.4f}')} · energy distance: {_fmt(r['energy_distance'], '{:.4f}')}")
    right.append(f"<span style='color:#9aa0aa'>{r['n']} samples; grid {r['grid']}</span>")
    cell = "<td style='padding-right:18px; vertical-align:top'>{}</td>"
    return ("<table cellspacing='0'><tr>" + cell.format("<br>".join(left)) + cell.format("<br>".join(right))
            + "</tr></table>")


def moves_text(moves) -> str:
    """" · last move of k: drift … noise …" for a Langevin frame's ``moves`` (mean ‖·‖ of each term)."""
    _, _, d, n = moves
    return (f" · last move of {len(d)}: drift (orange) ‖·‖ {np.linalg.norm(d, axis=1).mean():.3g}, "
            f"noise (blue) {np.linalg.norm(n, axis=1).mean():.3g}")
