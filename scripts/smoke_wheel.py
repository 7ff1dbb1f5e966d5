"""Build the wheel, install it into a fresh virtual environment, and serve every page from a
folder outside the checkout: what a plain `pip install .` gives a user.

    python scripts/smoke_wheel.py        # exit 0 when every page, asset and language answers

Both ways of starting are tried: `cnn-playground serve` and `uvicorn app.main:app`. Every wait is
bounded; servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["/", "/about", "/filters", "/pooling", "/pipeline", "/train", "/text", "/signals",
         "/losses", "/optimizers"]  # fmt: skip
ASSETS = [
    ("/static/css/app.css", b"body"),
    ("/static/vendor/htmx-2.0.11.min.js", b"htmx"),
    ("/static/vendor/idiomorph-ext-0.8.0.min.js", b"Idiomorph"),
    ("/static/js/filters.js", b""),
    ("/filters/image.png?sample=astronaut&view=input", b"\x89PNG"),  # a sample photo
    ("/train/preview.png", b"\x89PNG"),  # the bundled digits
    ("/signals/audio.wav?clip=voice_en&which=input", b"RIFF"),  # a bundled sound
    ("/openapi.json", b'"stride"'),
]
HEADINGS = {"en": b"The lesson path", "pt_BR": "A trilha de lições".encode()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, lang: str = "en") -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": f"lang={lang}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_up(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            if get(base + "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not start in time")


def check(base: str) -> list[str]:
    problems = []
    for lang, heading in HEADINGS.items():
        status, body = get(base + "/", lang)
        if status != 200 or heading not in body:
            problems.append(f"/ in {lang}: {status}")
        for path in PAGES:
            status, body = get(base + path, lang)
            tag = b'lang="pt-BR"' if lang == "pt_BR" else b'lang="en"'
            if status != 200 or tag not in body:
                problems.append(f"{path} in {lang}: {status}")
    for path, marker in ASSETS:
        status, body = get(base + path)
        if status != 200 or marker not in body[:200_000]:
            problems.append(f"{path}: {status} {body[:80]!r}")
    return problems


def serve(command: list[str], cwd: Path, env: dict) -> list[str]:
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{command[command.index('--port') + 1]}"
    try:
        wait_until_up(base, process)
        return check(base)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        dist = tmp_path / "dist"
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--wheel-dir", str(dist), str(ROOT)], check=True, timeout=300)  # fmt: skip
        wheel = next(dist.glob("*.whl"))
        env_dir = tmp_path / "venv"
        venv.create(env_dir, with_pip=True)
        python = env_dir / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                       timeout=600)  # fmt: skip
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["CNN_DATA_DIR"] = str(tmp_path / "data")  # not the user's own data folder
        problems = []
        port = str(free_port())
        problems += serve([str(env_dir / "bin" / "cnn-playground"), "serve", "--host",
                           "127.0.0.1", "--port", port], elsewhere, env)  # fmt: skip
        port = str(free_port())
        problems += serve([str(python), "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                           "--port", port], elsewhere, env)  # fmt: skip
    for problem in problems:
        print("FAILED", problem)
    print(
        f"wheel smoke test: {len(PAGES) * 2 + len(ASSETS) + 2} checks per server, "
        f"{len(problems)} failed"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
