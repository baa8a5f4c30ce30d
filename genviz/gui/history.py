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
