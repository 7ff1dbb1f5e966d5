"""engine.memory: the allocator setting the training processes and the benchmarks share."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_glibc_keeps_freed_memory_when_asked():
    assert memory.keep_freed_memory() is True


def test_the_environment_form_names_the_same_values():
    env = memory.malloc_environment()
    assert env == {
        "MALLOC_MMAP_THRESHOLD_": str(memory.MMAP_THRESHOLD),
        "MALLOC_TRIM_THRESHOLD_": str(memory.TRIM_THRESHOLD),
    }
    # glibc refuses an mmap threshold above 32 MB on 64-bit machines: the setting would not hold
    assert memory.MMAP_THRESHOLD <= 32 * 1024 * 1024


def test_importing_it_loads_no_numpy():
    """A training process imports it before it sets its thread counts and loads NumPy."""
    code = "import sys, engine.memory; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
