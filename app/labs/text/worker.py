"""The text-training process: one run of the Text lab, reporting through a queue.

Same protocol as the Training lab's worker (messages "started", "steps", "epoch", "done",
"error"), so the run manager and the run pages treat it like any other run. app.runs.entry starts
it with one BLAS thread and a lower priority: page requests come first.
"""

from __future__ import annotations

from app.runs.reporter import Reporter, error_payload


def corpus_arrays(config: dict):
    """(train texts, y_train, test texts, y_test, class names, pair groups or None)."""
    import numpy as np

    from engine.text import load_reviews

    if config["corpus"] == "builtin":
        corpus = load_reviews()
        return (corpus.train_texts, corpus.y_train, corpus.test_texts, corpus.y_test,
                corpus.class_names, corpus.train_groups)  # fmt: skip
    from app.labs.text.corpus import split_own

    texts, labels = config["texts"], np.array(config["labels"], dtype=np.int64)
    train, test = split_own(config["labels"])
    return ([texts[i] for i in train], labels[train], [texts[i] for i in test], labels[test],
            config["class_names"], None)  # fmt: skip


def run(config: dict, queue, stop_event, pause_event, max_seconds: float) -> None:
    """Fit the tokenizer, pad, train the text CNN; every message is a (kind, payload) tuple."""
    try:
        from engine.text import Tokenizer, pad_sequences
        from engine.textmodel import TextTrainConfig, train_text

        train_texts, y_train, test_texts, y_test, class_names, groups = corpus_arrays(config)
        tok = Tokenizer(config["num_words"], "<OOV>" if config["oov"] else None, config["lower"])
        tok.fit_on_texts(train_texts)

        def pad(texts):
            return pad_sequences(
                tok.texts_to_sequences(texts),
                config["maxlen"],
                padding=config["padding"],
                truncating=config["truncating"],
            )

        train_config = TextTrainConfig(**config["train"])
        reporter = Reporter(queue, stop_event, pause_event, max_seconds)

        def on_epoch(info) -> None:
            reporter.epoch(dict(info.__dict__))

        queue.put(("started", {}))
        result = train_text(train_config, pad(train_texts), y_train, pad(test_texts), y_test,
                            tok.vocab_size, len(class_names), reporter.step, on_epoch,
                            reporter.should_stop,
                            groups)  # fmt: skip
        reporter.done(result, {
            "tokenizer": tok.to_dict(),
            "class_names": list(class_names),
            "n_train": len(train_texts),
            "n_test": len(test_texts),
            "vocab_size": tok.vocab_size,
        })  # fmt: skip
    except Exception as error:  # report, never die silently: the page must say what happened
        queue.put(("error", error_payload(error)))
