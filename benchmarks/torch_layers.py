"""Times torch.nn.functional.conv2d on the benchmark's CNN-layer cases and prints JSON.

Run by bench_conv with the Python of a *separate* environment that has PyTorch's CPU build
(PyTorch is never a dependency of CNN Playground):

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    CNN_BENCH_TORCH_PYTHON=/tmp/torchenv/bin/python cnn-playground bench
"""

import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F  # noqa: N812


def main() -> None:
    cases = json.loads(sys.argv[1])
    repeats = int(sys.argv[2])
    torch.manual_seed(0)
    results = {}
    for n, c, f, size, k in cases:
        x = torch.randn(n, c, size, size)
        w = torch.randn(f, c, k, k)
        b = torch.randn(f)
        with torch.no_grad():
            F.conv2d(x, w, b)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                F.conv2d(x, w, b)
                times.append(time.perf_counter() - start)
        results[f"{n},{c},{f},{size},{k}"] = statistics.median(times)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), **results}))


if __name__ == "__main__":
    main()
