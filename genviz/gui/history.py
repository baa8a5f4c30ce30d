"""Chain history in preallocated blocks: one large allocation per ``BLOCK_BYTES`` of records, not several small
ones per step.

Keeping every record of a chain as separate small tensors and arrays fragments the C allocator: a 1,000-step
DDPM chain at batch 64 reached 7.9 GB of resident memory for 766 MB of tensors, and 300 steps of what the chain
panel keeps took 1.2 GB for 58 MB. ``HistoryBlocks.put`` copies each array into the next free slot of a block
of same-shaped slots and returns a view of it; a block is one allocation (mmap-backed at these sizes), freed as a
whole when no record refers to it any more. ``genviz bench`` reports the resident memory per byte held.

Qt-free and torch-optional: numpy arrays go into numpy blocks, torch tensors into torch blocks (CPU).
"""
from __future__ import annotations

from typing import Any

import numpy as np

BLOCK_BYTES = 8 * 2**20  # one block holds at least one slot and about this many bytes of slots


class HistoryBlocks:
    """A pool of blocks, one open block per (kind, shape, dtype); ``put`` returns a view into it.

    A view keeps its whole block alive (the block is shared by the records of one stretch of a chain), so the
    pool itself holds only the open blocks: ``clear()`` (a new model) starts fresh ones and lets old ones go
    with their records.
    """

    def __init__(self, block_bytes: int = BLOCK_BYTES):
        self.block_bytes = int(block_bytes)
        self._open: dict[tuple, list] = {}  # key -> [block, next free slot]
        self.allocated_bytes = 0  # every block ever allocated by this pool (for the bench)

    def clear(self) -> None:
        """Forget the open blocks (their filled slots stay valid for the records that use them)."""
        self._open.clear()

    def put(self, value: Any) -> Any:
        """A copy of ``value`` (a numpy array or a CPU torch tensor, any shape) stored in a block slot; the same
        type, shape and dtype as ``value``. 0-d or empty values are copied as they are."""
        is_np = isinstance(value, np.ndarray)
        nbytes = value.nbytes if is_np else value.numel() * value.element_size()
        if nbytes == 0 or value.ndim == 0:
            return value.copy() if is_np else value.clone()
        key = ("np" if is_np else "torch", tuple(value.shape), str(value.dtype))
        slot = self._open.get(key)
        if slot is None or slot[1] >= len(slot[0]):
            cap = max(1, self.block_bytes // nbytes)
            if is_np:
                block = np.empty((cap, *value.shape), dtype=value.dtype)
            else:
                import torch
                block = torch.empty((cap, *value.shape), dtype=value.dtype)
            self.allocated_bytes += cap * nbytes
            slot = self._open[key] = [block, 0]
        block, i = slot
        if is_np:
            block[i] = value
        else:
            block[i].copy_(value)
        slot[1] = i + 1
        return block[i]


# ---- bounded history: exact keyframes plus uint8 previews ---------------------------------------------------
# A record's exact float32 state is what a branch starts from; its uint8 previews are what scrubbing shows. At
# batch 64 of 3x64x64 the exact states of 1,000 steps are 3.1 GB and full-size previews (x_t and x̂₀) 1.6 GB, so
# a chain keeps the exact state only every ``keyframe_every`` records (and a branch's first) and rebuilds the
# others by replaying from the nearest keyframe (``ChainRunner.exact_x``; chains are deterministic given the
# keyframe's state and its generator's state), and keeps previews at full size only while both fit
# ``PREVIEW_BYTES`` per record (else halved, area-averaged, until they do).
KEYFRAME_BYTES = 64_000    # exact-state bytes per record on average: 64 MB per 1,000 steps
EXACT_BYTES = 262_144      # states up to this size stay exact at every record (batch 64 of 1x28x28 is 200 KB: 290 MB
                           # per 1,000 steps with previews, and a branch needs no replay, as before keyframes)
PREVIEW_BYTES = 400_000    # x_t + x̂₀ preview bytes per record: 400 MB per 1,000 steps


def keyframe_every(x_nbytes: int, budget: int = KEYFRAME_BYTES, exact: int = EXACT_BYTES) -> int:
    """Records between exact keyframes for a state of ``x_nbytes`` bytes: 1 while x_nbytes <= ``exact`` (every
    record exact: branching replays nothing), else the smallest k >= 1 with x_nbytes / k <= ``budget`` (1 at
    batch 64 of 1 x 28 x 28; 50 at batch 64 of 3 x 64 x 64)."""
    if int(x_nbytes) <= int(exact):
        return 1
    return max(1, -(-int(x_nbytes) // int(budget)))


def preview_factor(shape, budget: int = PREVIEW_BYTES) -> int:
    """The power of two f >= 1 by which (N, C, H, W) previews are shrunk so that two of them (x_t, x̂₀) fit
    ``budget`` bytes (f divides H and W, or stays at the last factor that does)."""
    n, c, h, w = (int(v) for v in shape)
    f = 1
    while 2 * n * c * (h // f) * (w // f) > budget and h % (2 * f) == 0 and w % (2 * f) == 0:
        f *= 2
    return f


def shrink_u8(a: np.ndarray, f: int) -> np.ndarray:
    """(N, C, H, W) uint8 -> (N, C, H/f, W/f) uint8, the rounded mean of each f x f block (f = 1: ``a``)."""
    if f == 1:
        return a
    n, c, h, w = a.shape
    m = a.reshape(n, c, h // f, f, w // f, f).mean(axis=(3, 5), dtype=np.float32)
    return np.clip(np.round(m), 0, 255).astype(np.uint8)
