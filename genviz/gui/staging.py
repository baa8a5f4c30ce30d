"""The staging area's model (InvokeAI's unified canvas): candidates wait here until the user accepts,
saves or discards them; the drawing is never overwritten silently. No Qt here.

Batches of candidates (one per generation) are appended, each labelled with the name of the model that
made it; ``index`` walks over all candidates of all batches. ``accept()`` returns the current candidate
(the panel puts it on the canvas as a new undo step, so undo brings the drawing back), marks it accepted
and adds it to ``history``; the staging area and the cursor stay as they are, so the user keeps their
place among the candidates. ``discard()`` drops the current batch. When more than ``max_batches`` are
held, the oldest batch is dropped and ``dropped`` counts it (the panel says so in the status line).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Candidate:
    """One generated image: ``image`` (C, H, W) float32 numpy in [0, 1], with what produced it (batch
    number, index ``k`` in the batch, the generation settings and the ``model`` name) and whether it was
    ``accepted``."""

    image: Any
    batch: int
    k: int
    params: dict = field(default_factory=dict)
    model: str = ""
    accepted: bool = False


class StagingArea:
    """Candidates from generations, a cursor, and the history of accepted results."""

    def __init__(self, max_batches: int = 32, max_history: int = 64):
        self.max_batches = max_batches
        self.max_history = max_history
        self.batches: list[list[Candidate]] = []
        self.history: list[Candidate] = []
        self.index = -1
        self.dropped = 0
        self._next_batch = 1

    # ---- contents --------------------------------------------------------------------------------
    @property
    def candidates(self) -> list[Candidate]:
        """All staged candidates, oldest batch first."""
        return [c for b in self.batches for c in b]

    def __len__(self) -> int:
        return sum(len(b) for b in self.batches)

    @property
    def current(self) -> Candidate | None:
        """The candidate under the cursor (None when nothing is staged)."""
        cs = self.candidates
        return cs[self.index] if 0 <= self.index < len(cs) else None

    def add_batch(self, images, params: dict | None = None, model: str = "") -> int:
        """Append a batch (sequence of (C, H, W) arrays in [0, 1]) made by ``model`` (its name); the
        cursor moves to its first candidate. Returns the batch number (1, 2, ...)."""
        if len(images) == 0:
            raise ValueError("a batch needs at least one image")
        num = self._next_batch
        self._next_batch += 1
        self.batches.append([Candidate(img, num, k, dict(params or {}), str(model)) for k, img in enumerate(images)])
        while len(self.batches) > self.max_batches:
            self.batches.pop(0)
            self.dropped += 1
        self.index = len(self) - len(self.batches[-1])
        return num

    # ---- navigation ------------------------------------------------------------------------------
    def next(self) -> Candidate | None:
        """Move the cursor to the next candidate (wraps around)."""
        if len(self):
            self.index = (self.index + 1) % len(self)
        return self.current

    def prev(self) -> Candidate | None:
        """Move the cursor to the previous candidate (wraps around)."""
        if len(self):
            self.index = (self.index - 1) % len(self)
        return self.current

    def select(self, i: int) -> Candidate | None:
        """Move the cursor to candidate ``i`` (IndexError when out of range)."""
        if not 0 <= i < len(self):
            raise IndexError(f"candidate {i} out of range 0..{len(self) - 1}")
        self.index = i
        return self.current

    # ---- actions ---------------------------------------------------------------------------------
    def accept(self) -> Candidate:
        """Take the current candidate: it is marked accepted and goes to ``history`` (once, however often
        it is accepted); it and its batch stay staged and the cursor stays on it.

        Raises:
            LookupError: nothing staged.
        """
        c = self.current
        if c is None:
            raise LookupError("no candidate to accept")
        if not c.accepted:
            c.accepted = True
            self.history.append(c)
            del self.history[:-self.max_history]
        return c

    def discard(self) -> int:
        """Drop the current candidate's batch; returns how many candidates went."""
        c = self.current
        if c is None:
            return 0
        return self._remove_batch_of(c)

    def clear(self) -> None:
        """Drop every staged batch (the history stays)."""
        self.batches.clear()
        self.index = -1

    def _remove_batch_of(self, c: Candidate) -> int:
        for i, b in enumerate(self.batches):
            if b and b[0].batch == c.batch:
                self.batches.pop(i)
                n = len(self)
                self.index = max(0, min(sum(len(x) for x in self.batches[:i]), n - 1)) if n else -1
                return len(b)
        return 0
