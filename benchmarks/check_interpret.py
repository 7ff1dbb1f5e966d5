"""engine.interpret against PyTorch autograd, outside the test suite (PyTorch lives in a
separate environment and is never a dependency):

    CNN_TORCH_PYTHON=/path/to/torch-env/bin/python python -m benchmarks.check_interpret

Builds one small CNN in float64 (see torch_interpret.py), computes the saliency, Grad-CAM at its
second ReLU, integrated gradients (32 steps, zero baseline) and occlusion (3×3 patches, stride 2,
fill 0.25) with the engine, has PyTorch compute the same from the same weights and inputs, and
prints the largest relative error of each. Exits 1 if any is above 1e-9.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from engine.interpret import grad_cam, input_gradient, integrated_gradients, occlusion
from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from engine.model import Sequential

TOLERANCE = 1e-9
STEPS = 32


def _rel_error(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))


def main() -> int:
    python = os.environ.get("CNN_TORCH_PYTHON")
    if not python:
        print("Set CNN_TORCH_PYTHON to a Python that has PyTorch (a separate environment).")
        return 2
    rng = np.random.default_rng(0)
    f64 = np.float64
    model = Sequential([
        Conv2D(1, 4, 3, padding=1, rng=rng, dtype=f64), ReLU(), MaxPool2D(2),
        Conv2D(4, 8, 3, padding=1, rng=rng, dtype=f64), ReLU(),
        Flatten(), Dense(8 * 8 * 8, 10, rng=rng, dtype=f64),
    ]).eval()  # fmt: skip
    x = rng.random((4, 1, 16, 16))
    target = np.array([0, 3, 7, 9])
    ours = {
        "saliency": input_gradient(model, x, target),
        "cam": grad_cam(model, x, target, 4),
        "ig": integrated_gradients(model, x, target, steps=STEPS),
        "occlusion": occlusion(model, x, target, size=3, stride=2, fill=0.25),
    }
    with tempfile.TemporaryDirectory() as folder:
        given, answer = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(given, x=x, target=target, steps=STEPS, **model.state_dict())
        script = Path(__file__).with_name("torch_interpret.py")
        subprocess.run([python, str(script), str(given), str(answer)], check=True, timeout=600)
        theirs = dict(np.load(answer))
    worst = 0.0
    for name, value in ours.items():
        error = _rel_error(value, theirs[name])
        worst = max(worst, error)
        print(f"{name:<10} shape {value.shape}: largest relative error vs PyTorch {error:.1e}")
    print("PASS" if worst <= TOLERANCE else "FAIL", f"(tolerance {TOLERANCE:g})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
