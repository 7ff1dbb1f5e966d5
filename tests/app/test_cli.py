import os
import subprocess
from pathlib import Path

import uvicorn

from app import cli


class FakeConsumer:
    started: list[list[str]] = []

    def __init__(self, command):
        FakeConsumer.started.append(command)

    def poll(self):
        return 0  # already gone: nothing to stop


def test_plain_command_and_serve_run_uvicorn_with_host_and_port(monkeypatch):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, workers: calls.append(
        (app, host, port, workers, os.environ.get("CNN_RUN_WORKERS"))))  # fmt: skip
    monkeypatch.setattr(subprocess, "Popen", FakeConsumer)
    monkeypatch.setenv("CNN_RUN_WORKERS", "5")
    FakeConsumer.started = []
    assert cli.main([]) == 0
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "9001", "--workers", "3",
                     "--run-workers", "2"]) == 0  # fmt: skip
    assert cli.main(["serve", "--run-workers", "0"]) == 0
    # The web processes never train: they get no consumers of their own ...
    assert calls == [
        ("app.main:app", "127.0.0.1", 8000, 1, "0"),
        ("app.main:app", "0.0.0.0", 9001, 3, "0"),
        ("app.main:app", "127.0.0.1", 8000, 1, "0"),
    ]
    # ... serve starts `cnn-playground worker` beside them (none with --run-workers 0).
    cores = str(os.cpu_count() or 1)
    assert [c[3:6] for c in FakeConsumer.started] == [
        ["worker", "--concurrency", cores],
        ["worker", "--concurrency", "2"],
    ]
    assert cli.main(["serve", "--workers", "0"]) == 2


def test_worker_command_runs_the_queue_with_its_concurrency(monkeypatch):
    from app.runs import consumer

    seen = []
    monkeypatch.setattr(consumer, "serve_queue", lambda s, slots, parent: seen.append(
        (slots, parent, s.data_dir)) or 0)  # fmt: skip
    monkeypatch.setenv("CNN_DATA_DIR", "/tmp/somewhere")
    assert cli.main(["worker", "--concurrency", "3"]) == 0
    assert cli.main(["worker"]) == 0
    assert seen == [(3, None, Path("/tmp/somewhere")), (os.cpu_count() or 1, None,
                                                          Path("/tmp/somewhere"))]  # fmt: skip
    assert cli.main(["worker", "--concurrency", "0"]) == 2


def test_bench_subcommand_calls_the_benchmarks(monkeypatch):
    import benchmarks

    seen = []
    monkeypatch.setattr(benchmarks, "run_all", lambda quick: seen.append(quick) or 0)
    assert cli.main(["bench", "--quick"]) == 0
    assert seen == [True]
