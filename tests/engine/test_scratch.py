"""engine.scratch: temporaries reused per thread, bounded, never shared between threads, and
never leaking into what a layer returns."""

from __future__ import annotations

import threading

import numpy as np

from engine import scratch as scratch_module
from engine.layers import Conv2D
from engine.scratch import scratch


def test_the_main_thread_gets_the_same_memory_again_and_other_threads_fresh_arrays():
    a = scratch("t.a", (4, 5), np.float32)
    assert scratch("t.a", (4, 5), np.float32) is a
    assert scratch("t.a", (4, 6), np.float32) is not a
    assert scratch("t.a", (4, 5), np.float64) is not a
    other = []

    def elsewhere():  # a web server's request thread: never pooled
        other.extend(scratch("t.a", (4, 5), np.float32) for _ in range(2))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert other[0] is not a and other[1] is not other[0]


def test_the_pool_stays_within_its_budget(monkeypatch):
    monkeypatch.setattr(scratch_module, "POOL_BYTES", 1_000_000)
    for i in range(20):
        scratch(f"t.big{i}", (100_000,), np.float32)  # 400 kB each
        scratch("t.again", (1000,), np.float32)  # reused: counted once
        pooled = sum(b.nbytes for b in scratch_module._LOCAL.pool.values())
        assert pooled == scratch_module._LOCAL.nbytes  # the running count the budget uses
    assert pooled <= 1_000_000


def backward_of(layer, x, dout):
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.grads["weight"].copy(), layer.grads["bias"].copy()


def test_two_layers_of_one_shape_do_not_overwrite_what_the_other_returned():
    rng = np.random.default_rng(0)
    first, second = (Conv2D(3, 4, 3, padding=1, rng=rng) for _ in range(2))
    x = rng.standard_normal((5, 3, 9, 9)).astype(np.float32)
    d1, d2 = (rng.standard_normal((5, 4, 9, 9)).astype(np.float32) for _ in range(2))
    dx1, dw1, _ = backward_of(first, x, d1)
    kept = dx1.copy(), dw1.copy()
    backward_of(second, x * 2, d2)  # the same scratch shapes, other values
    assert np.array_equal(dx1, kept[0]) and np.array_equal(first.grads["weight"], kept[1])
    again = backward_of(first, x, d1)
    assert np.array_equal(again[0], kept[0]) and np.array_equal(again[1], kept[1])


def test_threads_training_layers_at_once_get_what_they_would_alone():
    rng = np.random.default_rng(1)
    layers = [Conv2D(4, 6, 3, padding=1, rng=rng) for _ in range(4)]
    x = rng.standard_normal((8, 4, 12, 12)).astype(np.float32)
    douts = [rng.standard_normal((8, 6, 12, 12)).astype(np.float32) for _ in layers]
    alone = [backward_of(layer, x, d) for layer, d in zip(layers, douts, strict=True)]
    together = [None] * len(layers)

    def work(i):
        for _ in range(10):
            together[i] = backward_of(layers[i], x, douts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(layers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for mine, reference in zip(together, alone, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(mine, reference, strict=True))
