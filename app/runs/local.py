"""The queue consumers a web app starts beside itself (settings.run_workers > 0): one child
process running `cnn-playground worker`, the same command a user types, started when the first
run is queued and stopped with the app. The web process itself never trains."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

STARTUP_SECONDS = 20.0  # how long a fresh consumer may take to import and report its slots


class LocalWorkers:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.process: subprocess.Popen | None = None
        self.started = 0.0
        self._lock = threading.Lock()

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "app.cli",
            "worker",
            "--concurrency",
            str(self.settings.run_workers),
            "--parent",
            str(os.getpid()),
        ]

    def ensure_running(self) -> None:
        with self._lock:
            if self.process is not None and self.process.poll() is None:
                return
            # The consumer reads its store from the environment, as a user's would: the same
            # data folder or Redis as this app, whatever settings object built the app.
            env = {
                **os.environ,
                "CNN_DATA_DIR": str(self.settings.data_dir),
                "CNN_REDIS_URL": self.settings.redis_url,
            }
            self.process = subprocess.Popen(self.command(), env=env)
            self.started = time.monotonic()

    def starting(self) -> bool:
        """Started moments ago and still alive: its slots are not counted yet, but will be."""
        process = self.process
        return (process is not None and process.poll() is None
                and time.monotonic() - self.started < STARTUP_SECONDS)  # fmt: skip

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
