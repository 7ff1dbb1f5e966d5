"""No import changes the process environment (issue 18): a benchmark or a user's script that
imports the app must measure, and run with, the environment it was started with. The thread
counts of training processes are set in one place, where such a process starts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

MODULES = [
    "engine",
    "app.main",
    "app.cli",
    "app.runs.consumer",
    "app.runs.entry",
    "benchmarks",
    "benchmarks.bench_conv",
    "benchmarks.bench_layers",
    "benchmarks.bench_train",
]

SCRIPT = """
import importlib, json, os, sys
before = dict(os.environ)
importlib.import_module(sys.argv[1])
after = dict(os.environ)
changed = {k: [before.get(k), after.get(k)] for k in set(before) | set(after)
           if before.get(k) != after.get(k)}
print(json.dumps(changed))
"""


@pytest.mark.parametrize("module", MODULES)
def test_importing_leaves_the_environment_as_it_was(module):
    done = subprocess.run([sys.executable, "-c", SCRIPT, module], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}
