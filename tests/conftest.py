import io
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from PIL import Image

import app.config

# Every app a test builds keeps its store and queue in a fresh folder of its own (unless its
# settings name one), so tests never share runs or see a developer's own data folder.
TEST_DATA = Path(tempfile.mkdtemp(prefix="cnnp-test-data-"))


def fresh_data_dir() -> Path:
    return Path(tempfile.mkdtemp(dir=TEST_DATA))


app.config.default_data_dir = fresh_data_dir


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(TEST_DATA, ignore_errors=True)


def png_file(width: int = 40, height: int = 30, mode: str = "RGB", seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    if mode == "RGB":
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        pixels = rng.integers(0, 256, (height, width), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def wait_for_run(client, run_id: str, timeout: float = 60) -> str:
    """The status a run ends with, polled from the app's run manager (the store)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = client.app.state.runs.get(run_id)
        if not run.active:
            return run.status
        time.sleep(0.05)
    raise AssertionError("the run did not finish in time")


@pytest.fixture
def make_png():
    return png_file


@pytest.fixture(scope="session")
def serve():
    """Start the app with given settings on a free port in a thread; stopped at session end."""
    from app.main import create_app

    servers = []

    def start(settings=None) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.time() + 20
        while not server.started:
            if time.time() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server of its own on a loopback port, for the session: its URL. Tests that
    need it fail, never skip, when it cannot start and CNN_REQUIRE_REDIS is set (as CI does)."""
    executable = shutil.which("redis-server")
    if executable is None:
        message = "redis-server not found: install it (apt-get install redis-server)"
        if os.environ.get("CNN_REQUIRE_REDIS"):
            pytest.fail(message)
        pytest.skip(message)
    import redis

    port = free_port()
    folder = tempfile.mkdtemp(prefix="cnnp-redis-")
    process = subprocess.Popen(
        [executable, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", folder, "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, emptied for this test."""
    import redis

    redis.Redis.from_url(redis_server).flushall()
    return redis_server
