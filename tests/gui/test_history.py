"""Chain history in preallocated blocks (genviz.gui.history): values kept exactly, few large allocations."""
import numpy as np
import torch

from genviz.gui.history import HistoryBlocks


def test_put_keeps_values_and_shares_blocks():
    pool = HistoryBlocks(block_bytes=10 * 64)  # 10 slots of a (4, 4) float32
    xs = [torch.randn(4, 4, generator=torch.Generator().manual_seed(i)) for i in range(25)]
    kept = [pool.put(x) for x in xs]
    for x, k in zip(xs, kept):
        assert torch.equal(x, k) and k.dtype == x.dtype and k.shape == x.shape
    assert kept[0].untyped_storage().data_ptr() == kept[9].untyped_storage().data_ptr()  # one block: 10 slots
    assert kept[9].untyped_storage().data_ptr() != kept[10].untyped_storage().data_ptr()
    assert pool.allocated_bytes == 3 * 10 * 64  # 25 records -> 3 blocks, not 25 allocations
    xs[0].zero_()
    assert not torch.equal(kept[0], xs[0])  # a copy, not the caller's tensor
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    v = pool.put(a)
    assert isinstance(v, np.ndarray) and np.array_equal(v, a) and v.base is not None
    e = pool.put(np.zeros((0, 3)))
    assert e.shape == (0, 3)
