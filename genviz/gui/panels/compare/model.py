"""Qt-free state of the sampler comparison panel: settings, the newest grid results, the texts it shows.

No torch here: the grid runs on the engine thread (``backend.sampler_grid.run_grid``); this model holds what it
yields and turns it into cell labels, the curves to overlay, the caption, a session dict and the chain panel
session that opens one cell's chain.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ....backend.sampler_grid import DEFAULT_SAMPLERS, DEFAULT_STEPS, REFERENCES

MAX_STEPS = 1000
MAX_ROWS = 12
CURVES = (("x_norm", "mean ‖x_t‖"), ("x0_change", "x̂₀ change per call"), ("confidence", "confidence in x̂₀"))


@dataclass
class CompareSettings:
    """What the grid runs: rows (sampler names), columns (step counts), the seed, the batch, the reference."""

    samplers: list = field(default_factory=lambda: list(DEFAULT_SAMPLERS))
    steps: list = field(default_factory=lambda: list(DEFAULT_STEPS))
    seed: int = 0
    n: int = 16
    reference: str = "most-steps"

    def check(self, known: list | None = None) -> None:
        """Raise ValueError (one line) for an empty or oversized grid, bad step counts, batch or reference, or a
        sampler not in ``known`` (the samplers that run on the model)."""
        if not self.samplers or len(self.samplers) > MAX_ROWS:
            raise ValueError(f"pick 1 to {MAX_ROWS} samplers")
        if not self.steps or len(self.steps) > 6 or any(not 1 <= int(s) <= MAX_STEPS for s in self.steps):
            raise ValueError(f"step counts: 1 to 6 numbers in 1..{MAX_STEPS}, e.g. 5, 10, 20, 50")
        if not 1 <= int(self.n) <= 64:
            raise ValueError("samples per cell: 1..64")
        if self.reference not in REFERENCES:
            raise ValueError(f"reference must be one of {', '.join(REFERENCES)}")
        if known is not None:
            bad = [s for s in self.samplers if s not in known]
            if bad:
                raise ValueError(f"{', '.join(bad)}: not a sampler of this model")


def parse_steps(text: str) -> list[int]:
    """"5, 10 20" -> [5, 10, 20]; ValueError for anything but positive integers."""
    parts = text.replace(",", " ").split()
    try:
        out = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"step counts must be whole numbers, got {text!r}") from None
    if not out or min(out) < 1:
        raise ValueError("give at least one step count >= 1")
    return out


class CompareModel:
    """Settings plus the newest ``run_grid`` state (``{"cells", "done", "total", "reference", "ref_cell"}``)."""

    def __init__(self):
        self.settings = CompareSettings()
        self.result: dict | None = None
        self.running = False
        self.error = ""
        self.labels: dict = {}  # sampler name -> label, from the loaded model's samplers

    # ---- results -----------------------------------------------------------------------------------
    def cell(self, i: int, j: int):
        """The Cell at row i, column j, or None while it is not computed."""
        if self.result is None:
            return None
        try:
            return self.result["cells"][i][j]
        except IndexError:
            return None

    def cell_text(self, i: int, j: int) -> str:
        """One line under a cell: network calls and the convergence readout."""
        c = self.cell(i, j)
        if c is None:
            return "…"
        if c.error:
            return f"failed: {c.error[:60]}"
        parts = [f"{c.nfe} calls"]
        if c.agree is not None:
            parts.append(f"{round(100 * c.agree)}% same")
        if c.distance is not None and c.agree is None:
            parts.append(f"RMS {c.distance:.3f}")
        return " · ".join(parts)

    def curves(self, key: str) -> list[tuple[str, int, int, list, list]]:
        """(legend, row, column, x, y) per computed cell for curve ``key`` (``CURVES``): x is the share of the
        chain done (record / records, 0..1) so chains of different lengths overlay."""
        out = []
        if self.result is None:
            return out
        for i, row in enumerate(self.result["cells"]):
            for j, c in enumerate(row):
                if c is None or c.error:
                    continue
                y = getattr(c, key)
                if y is None or len(y) == 0:
                    continue
                k = len(y)
                off = 0 if key == "x_norm" else 1
                xs = [(r + off) / max(c.nfe, 1) for r in range(k)]
                ys = [float(v) if math.isfinite(float(v)) else math.nan for v in y]
                out.append((f"{c.label} {c.steps}", i, j, xs, ys))
        return out

    def best_text(self) -> str:
        """Which sampler reaches the reference with the fewest network calls (>= 75 % same digit, else the
        smallest RMS distance), in one sentence; "" before the grid is done."""
        if self.result is None or self.result["done"] < self.result["total"]:
            return ""
        cells = [c for row in self.result["cells"] for c in row if c is not None and not c.error]
        ok = [c for c in cells if c.agree is not None and c.agree >= 0.75 and c.steps != max(self.settings.steps)]
        if ok:
            c = min(ok, key=lambda c: (c.nfe, -c.agree))
            return (f"Fewest network calls to agree with the reference on ≥ 75 % of the digits: {c.label} with "
                    f"{c.steps} steps ({c.nfe} calls, {round(100 * c.agree)}%).")
        with_d = [c for c in cells if c.distance is not None and c.steps != max(self.settings.steps)]
        if with_d:
            c = min(with_d, key=lambda c: c.distance)
            return f"Closest to the reference: {c.label} with {c.steps} steps (RMS {c.distance:.3f})."
        return ""

    def caption(self) -> str:
        """What the grid shows, where the run is, and the answer once it is done."""
        s = self.settings
        ref = ("its own chain with the most steps" if s.reference == "most-steps"
               else "a 1000-step DDPM chain from the same noise")
        head = (f"Every row is a sampler, every column a number of steps; all {len(s.samplers) * len(s.steps)} "
                f"chains start from the same noise (seed {s.seed}). Under each cell: the network calls it made and "
                f"the share of its digits that are the same digit as in {ref} (% same). The plots overlay every "
                "chain: colour = the row's label colour, line style = steps (dotted 5 … solid for the most). Click a "
                "cell to open that chain in the Chain panel.")
        if self.error:
            return head + f" The last run failed: {self.error}"
        if self.result is None:
            return head + " Press Run to fill the grid."
        if self.running:
            return head + f" Running: {self.result['done']} of {self.result['total']} chains done."
        return head + " " + self.best_text()

    # ---- the chain panel --------------------------------------------------------------------------
    def chain_session(self, i: int, j: int) -> dict:
        """The Chain panel's ``restore_session`` data that rebuilds cell (i, j)'s chain: same sampler, steps,
        seed and batch, run to its end. Raises IndexError outside the grid."""
        s = self.settings
        name, steps = s.samplers[i], int(s.steps[j])
        c = self.cell(i, j)
        length = c.nfe if c is not None and c.nfe else steps
        return {"settings": {"sampler": name, "steps": steps, "seed": int(s.seed), "n": int(s.n)},
                "branches": [{"length": int(length)}]}

    # ---- sessions ----------------------------------------------------------------------------------
    def session_state(self) -> dict:
        """``{"samplers", "steps", "seed", "n", "reference"}``."""
        s = self.settings
        return {"samplers": list(s.samplers), "steps": [int(v) for v in s.steps], "seed": int(s.seed),
                "n": int(s.n), "reference": s.reference}

    def restore(self, data: dict, known: list | None = None) -> None:
        """Settings from ``session_state()``-style data (missing keys keep their values). Raises ValueError."""
        s = self.settings
        new = CompareSettings(samplers=list(data.get("samplers", s.samplers)),
                              steps=[int(v) for v in data.get("steps", s.steps)], seed=int(data.get("seed", s.seed)),
                              n=int(data.get("n", s.n)), reference=str(data.get("reference", s.reference)))
        new.check(known)
        self.settings = new
