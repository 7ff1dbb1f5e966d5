"""The `cnn-playground` command: `serve` (the default), `worker`, `train` and `bench`.

`serve --workers N --run-workers M` runs N web processes and, beside them, `cnn-playground worker
--concurrency M` (the command a user types on another host), so that one command still runs
everything on one machine. With M = 0 the consumers run elsewhere, on the same Redis.

`train` prints a progress bar to stderr when it is a terminal; the last line of stdout is one
JSON object (test_accuracy, final_loss, seconds, params, ...), so scripts can read the result.
`bench` loads the benchmarks (the top-level `benchmarks` package) only when asked: the app does
not depend on them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import sys

from engine.datasets import DATASETS
from engine.optim import OPTIMIZERS
from engine.presets import PRESETS
from engine.schedules import SCHEDULES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnn-playground", description="CNN Playground")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the web app (the default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, metavar="N", help="web processes")
    serve.add_argument("--run-workers", type=int, default=None, metavar="M",
                       help="runs trained at once on this machine (default: one per core; "
                            "0 when `cnn-playground worker` runs elsewhere)")  # fmt: skip
    worker = commands.add_parser("worker", help="train queued runs (one per core by default)")
    worker.add_argument("--concurrency", type=int, default=None, metavar="M",
                        help="runs trained at once (default: one per core)")  # fmt: skip
    worker.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    train = commands.add_parser("train", help="train a preset CNN and print a JSON summary")
    add_train_arguments(train)
    bench = commands.add_parser("bench", help="time the engine against references, print ratios")
    bench.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    args = parser.parse_args(argv)

    if args.command == "train":
        return run_train(args)
    if args.command == "bench":
        return importlib.import_module("benchmarks").run_all(quick=args.quick)

    if args.command == "worker":
        return run_worker_command(args.concurrency, args.parent)
    return run_serve(
        getattr(args, "host", "127.0.0.1"), getattr(args, "port", 8000),
        getattr(args, "workers", 1), getattr(args, "run_workers", None),
    )  # fmt: skip


def _cores() -> int:
    return os.cpu_count() or 1


def run_worker_command(concurrency: int | None, parent: int | None) -> int:
    from app.config import Settings
    from app.runs.consumer import serve_queue

    slots = concurrency if concurrency is not None else _cores()
    if slots < 1:
        print("cnn-playground worker: --concurrency must be at least 1", file=sys.stderr)
        return 2
    return serve_queue(Settings(), slots, parent)


def run_serve(host: str, port: int, workers: int, run_workers: int | None) -> int:
    import subprocess

    import uvicorn

    if workers < 1 or (run_workers is not None and run_workers < 0):
        print("cnn-playground serve: --workers must be at least 1, --run-workers at least 0",
              file=sys.stderr)  # fmt: skip
        return 2
    slots = run_workers if run_workers is not None else _cores()
    consumer = None
    if slots:
        consumer = subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--concurrency",
                                     str(slots), "--parent", str(os.getpid())])  # fmt: skip
    # The web processes only queue runs: the consumer above (or another host's) trains them.
    os.environ["CNN_RUN_WORKERS"] = "0"
    try:
        uvicorn.run("app.main:app", host=host, port=port, workers=workers)
    finally:
        if consumer is not None and consumer.poll() is None:
            consumer.terminate()
            try:
                consumer.wait(10)
            except subprocess.TimeoutExpired:
                consumer.kill()
    return 0


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=DATASETS, default="digits")
    parser.add_argument("--image-size", type=int, choices=(8, 16, 28), default=None,
                        help="digits only: resample the 8×8 digits (default 16)")  # fmt: skip
    parser.add_argument("--model", choices=PRESETS, default="lenet")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    parser.add_argument(
        "--lr", type=float, default=None, help="default: one that suits the optimizer"
    )
    parser.add_argument("--schedule", choices=SCHEDULES, default="cosine")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--augment", action="store_true", help="random shifts, turns and zooms")
    parser.add_argument("--batchnorm", action="store_true", help="BatchNorm after each layer")
    parser.add_argument("--save", metavar="WEIGHTS.npz", help="save the trained weights")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


class ProgressBar:
    def __init__(self, stream) -> None:
        self.stream = stream
        self.last_epoch_line = ""

    def step(self, info) -> None:
        width = 30
        done = int(width * info.step / info.total_steps)
        self.stream.write(
            f"\r[{'#' * done}{'.' * (width - done)}] step {info.step}/{info.total_steps} "
            f"epoch {info.epoch} loss {info.loss:.4f} lr {info.lr:.2g} "
        )
        self.stream.flush()

    def epoch(self, info) -> None:
        self.stream.write(
            f"\repoch {info.epoch}: train loss {info.train_loss:.4f} acc {info.train_accuracy:.3f}"
            f" | val loss {info.val_loss:.4f} acc {info.val_accuracy:.3f}{' ' * 30}\n"
        )
        self.stream.flush()


def peak_memory_mb() -> float:
    """This process's peak resident memory. VmHWM (Linux) belongs to the running program alone;
    ru_maxrss would also count a large parent that forked it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_train(args: argparse.Namespace) -> int:
    from engine.errors import EngineError
    from engine.memory import keep_freed_memory
    from engine.train import TrainConfig, train

    keep_freed_memory()  # as a training process does (engine.memory)

    config = TrainConfig(
        dataset=args.dataset, image_size=args.image_size, model=args.model,
        batchnorm=args.batchnorm, optimizer=args.optimizer, lr=args.lr, schedule=args.schedule,
        epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, augment=args.augment,
    )  # fmt: skip
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    try:
        result = train(
            config,
            on_step=bar.step if bar else None,
            on_epoch=bar.epoch if bar else None,
        )
    except (EngineError, ValueError) as error:
        print(f"cnn-playground train: {error}", file=sys.stderr)
        return 2
    if args.save and result.status != "diverged":
        try:
            result.model.save(args.save)
        except (OSError, ValueError) as error:
            print(f"cnn-playground train: cannot save weights: {error}", file=sys.stderr)
            return 2
    if result.status == "diverged":
        print(f"cnn-playground train: {result.message}", file=sys.stderr)
    last = result.history.epochs[-1] if result.history.epochs else None
    summary = {
        "status": result.status,
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "final_loss": result.history.step_loss[-1] if result.history.step_loss else None,
        "val_accuracy": last.val_accuracy if last else None,
        "epochs_run": len(result.history.epochs),
        "steps": len(result.history.step_loss),
        "seconds": round(result.seconds, 3),
        "params": result.model.num_params(),
        "peak_memory_mb": peak_memory_mb(),
        "config": vars(config),
    }
    if result.status == "diverged":
        summary["message"] = result.message
    print(json.dumps(summary))
    return 0 if result.status != "diverged" else 1


if __name__ == "__main__":
    raise SystemExit(main())
