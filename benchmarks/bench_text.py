"""The Text lab's numbers: tokenizing + padding 10,000 sentences, and the text CNN's training.

    python -m benchmarks.bench_text [--quick]

1. Tokenizer.fit_on_texts + texts_to_sequences + pad_sequences on 10,000 sentences (the built-in
   reviews, repeated with a running number so the vocabulary keeps growing). The reference,
   measured in the same run, is the least any tokenizer must do: a plain loop of
   str.lower().split() over the same sentences. The ratio says what Keras' rules cost on top.
2. The text CNN (the Text lab's defaults) trained on the built-in corpus, one BLAS thread as in
   the lab's worker. Targets: test accuracy ≥ 85% and ≤ 20 s per run.
3. The Text lab page (GET /text) over HTTP, median of several requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the training worker; before NumPy

SENTENCES = 10_000


def sentences(n: int) -> list[str]:
    from engine.text import load_reviews

    corpus = load_reviews()
    texts = corpus.train_texts + corpus.test_texts
    return [f"{texts[i % len(texts)]} #{i}" for i in range(n)]


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_tokenize(repeats: int) -> float:
    from engine.text import Tokenizer, pad_sequences

    texts = sentences(SENTENCES)

    def keras_way():
        tok = Tokenizer(num_words=2000, oov_token="<OOV>").fit_on_texts(texts)
        return pad_sequences(tok.texts_to_sequences(texts), maxlen=12)

    def plain_split():
        return [text.lower().split() for text in texts]

    ours = best_of(repeats, keras_way)
    reference = best_of(repeats, plain_split)
    shape = keras_way().shape
    print(f"Tokenize + pad {SENTENCES:,} sentences -> {shape}: {ours * 1000:.1f} ms "
          f"({SENTENCES / ours:,.0f} sentences/s)")  # fmt: skip
    print(f"  reference, str.lower().split() loop: {reference * 1000:.1f} ms; "
          f"ratio {ours / reference:.1f}× (fit + ids + padding vs splitting alone)")  # fmt: skip
    return ours


def bench_training(seeds: list[int]) -> tuple[float, float]:
    from engine.text import Tokenizer, load_reviews, pad_sequences
    from engine.textmodel import TextTrainConfig, train_text

    corpus = load_reviews()
    config = TextTrainConfig()
    print(f"Text CNN on the built-in reviews ({len(corpus.train_texts)} train, "
          f"{len(corpus.test_texts)} test): D={config.embedding_dim}, {config.filters} filters × "
          f"widths {config.widths}, {config.epochs} epochs, adam {config.lr:g}, batch "
          f"{config.batch_size}, maxlen 12")  # fmt: skip
    print(f"{'seed':>4} {'test acc':>9} {'train s':>8} {'total s':>8}")
    worst_acc, worst_s = 1.0, 0.0
    for seed in seeds:
        start = time.perf_counter()
        tok = Tokenizer(oov_token="<OOV>").fit_on_texts(corpus.train_texts)

        def pad(texts, tok=tok):
            return pad_sequences(tok.texts_to_sequences(texts), 12)

        result = train_text(TextTrainConfig(seed=seed), pad(corpus.train_texts), corpus.y_train,
                            pad(corpus.test_texts), corpus.y_test, tok.vocab_size, 2,
                            groups=corpus.train_groups)  # fmt: skip
        total = time.perf_counter() - start
        print(f"{seed:>4} {result.test_accuracy:9.4f} {result.seconds:8.2f} {total:8.2f}")
        worst_acc = min(worst_acc, result.test_accuracy)
        worst_s = max(worst_s, total)
    return worst_acc, worst_s


def bench_page(requests: int) -> float:
    from starlette.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app()) as client:
        client.get("/text")  # warm: the vocabulary and the untrained network are cached
        times = []
        for i in range(requests):
            start = time.perf_counter()
            response = client.get(f"/text?maxlen={12 + i % 3}&pad={'pre' if i % 2 else 'post'}")
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
    median = statistics.median(times)
    print(f"GET /text (the five stages, default text): median {median * 1000:.0f} ms "
          f"over {requests} requests")  # fmt: skip
    return median


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, fewer repeats")
    args = parser.parse_args(argv)
    bench_tokenize(repeats=2 if args.quick else 5)
    worst_acc, worst_s = bench_training([0] if args.quick else [0, 1, 2])
    bench_page(5 if args.quick else 20)
    verdicts = [
        f"accuracy ≥ 0.85: {'PASS' if worst_acc >= 0.85 else 'MISS'} (worst {worst_acc:.4f})",
        f"time ≤ 20 s: {'PASS' if worst_s <= 20 else 'MISS'} (worst {worst_s:.2f} s)",
    ]
    print("; ".join(verdicts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
