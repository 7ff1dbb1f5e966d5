"""Students who open "look inside" on the same run share one trained model: inference keeps
nothing on the model, so concurrent feature maps and predictions are each right, and none fails."""

from __future__ import annotations

import threading

import numpy as np

from app.labs.training.views import layer_table
from engine import builder

ROUNDS = 150  # per thread: bounded, a few seconds in all
THREADS = 6


def shared_model():
    text = "conv 6 5x5 same, relu, pool 2, conv 16 5x5 same, relu, pool 2, dense 32, relu"
    model, infos = builder.build(text, (1, 16, 16), 10, batchnorm=True,
                                 rng=np.random.default_rng(0))  # fmt: skip
    model.eval()
    return model, infos


def test_concurrent_look_inside_and_predictions_on_one_model_are_right():
    model, infos = shared_model()
    rng = np.random.default_rng(1)
    images = rng.random((THREADS, 1, 16, 16)).astype(np.float32)
    batch = rng.random((64, 1, 16, 16)).astype(np.float32)
    expected_maps = [[layer.values for layer in layer_table(model, infos, image)[0]]
                     for image in images]  # fmt: skip
    expected_logits = model.predict(batch)
    failures: list[str] = []
    start = threading.Barrier(THREADS)

    def student(i: int) -> None:
        start.wait()
        for _ in range(ROUNDS):
            try:
                layers, probabilities = layer_table(model, infos, images[i])
                logits = model.predict(batch)
            except Exception as error:  # the failure this test exists for
                failures.append(f"{type(error).__name__}: {error}")
                continue
            same = all(np.array_equal(a.values, b)
                       for a, b in zip(layers, expected_maps[i], strict=True))  # fmt: skip
            if not same or not np.array_equal(logits, expected_logits):
                failures.append("a result that belongs to another request")
            if not np.isclose(probabilities.sum(), 1.0):
                failures.append("probabilities that do not sum to 1")

    threads = [threading.Thread(target=student, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
