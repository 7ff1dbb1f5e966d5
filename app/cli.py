"""The `cnn-playground` command: `serve` (the default) and `bench`."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnn-playground", description="CNN Playground")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the web app (the default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    train = commands.add_parser("train", help="train a preset CNN and print a JSON summary")
    from app import train_cli

    train_cli.add_arguments(train)
    bench = commands.add_parser("bench", help="time the engine against references, print ratios")
    bench.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    args = parser.parse_args(argv)

    if args.command == "train":
        return train_cli.run(args)
    if args.command == "bench":
        from benchmarks import run_all

        return run_all(quick=args.quick)

    import uvicorn

    from app.main import create_app

    host = getattr(args, "host", "127.0.0.1")
    port = getattr(args, "port", 8000)
    uvicorn.run(create_app(), host=host, port=port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
