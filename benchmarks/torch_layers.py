"""Times PyTorch's conv2d forward and backward on the benchmark's CNN-layer cases; prints JSON.

Run by bench_conv with the Python of a *separate* environment that has PyTorch's CPU build
(PyTorch is never a dependency of CNN Playground):

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy threadpoolctl
    CNN_BENCH_TORCH_PYTHON=/tmp/torchenv/bin/python cnn-playground bench

Arguments: the cases as JSON [[N, C, F, H, K, padding], ...], the repeats, the thread count.
The timing protocol is benchmarks/protocol.py, loaded by path: the same code times our side.
"""

import importlib.util
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812

_spec = importlib.util.spec_from_file_location("protocol", Path(__file__).with_name("protocol.py"))
protocol = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(protocol)


def main() -> None:
    cases = json.loads(sys.argv[1])
    repeats = int(sys.argv[2])
    torch.set_num_threads(int(sys.argv[3]))
    torch.manual_seed(0)
    results = {}
    for n, c, f, size, k, p in cases:
        x = torch.randn(n, c, size, size)
        w = torch.randn(f, c, k, k)
        b = torch.randn(f)
        with torch.no_grad():
            dy = torch.randn_like(F.conv2d(x, w, b, padding=p))

            def forward(x=x, w=w, b=b, p=p):
                F.conv2d(x, w, b, padding=p)

            def backward(x=x, w=w, dy=dy, p=p, f=f):  # dL/dx, dL/dW and dL/db, as ours
                torch.ops.aten.convolution_backward(
                    dy, x, w, [f], [1, 1], [p, p], [1, 1], False, [0, 0], 1, [True, True, True]
                )

            results[f"{n},{c},{f},{size},{k},{p}"] = {
                "forward": protocol.best_and_median(forward, repeats),
                "backward": protocol.best_and_median(backward, repeats),
            }
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "blas": protocol.describe_blas(), "cases": results}))  # fmt: skip


if __name__ == "__main__":
    main()
