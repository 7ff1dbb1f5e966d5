import uvicorn

from app import cli


def test_plain_command_and_serve_run_uvicorn_with_host_and_port(monkeypatch):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port: calls.append((host, port)))
    assert cli.main([]) == 0
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "9001"]) == 0
    assert calls == [("127.0.0.1", 8000), ("0.0.0.0", 9001)]


def test_bench_subcommand_calls_the_benchmarks(monkeypatch):
    import benchmarks

    seen = []
    monkeypatch.setattr(benchmarks, "run_all", lambda quick: seen.append(quick) or 0)
    assert cli.main(["bench", "--quick"]) == 0
    assert seen == [True]
