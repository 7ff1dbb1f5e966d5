"""Times the LeNet-style stack of bench_layers in PyTorch (forward with and without autograd,
forward + backward, a whole Adam step) and prints the best and median of each as JSON.

Run by bench_layers with the Python of a *separate* environment that has PyTorch's CPU build
(PyTorch is never a dependency of CNN Playground):

    python torch_lenet.py '{"batch": 64, "repeats": 9, "threads": 2}'

The network: conv 6 5×5 same → ReLU → maxpool 2 → conv 16 5×5 → ReLU → maxpool 2 → flatten →
dense 120 → ReLU → dense 84 → ReLU → dense 10, on (batch, 1, 28, 28) float32, with a mean
cross-entropy loss for the backward pass.
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

# The same timing code as our side: benchmarks/protocol.py, loaded by path.
_spec = importlib.util.spec_from_file_location("protocol", Path(__file__).with_name("protocol.py"))
protocol = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(protocol)


def main() -> None:
    config = json.loads(sys.argv[1])
    batch, repeats = int(config["batch"]), int(config["repeats"])
    torch.set_num_threads(int(config.get("threads", torch.get_num_threads())))
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120),
        torch.nn.ReLU(),
        torch.nn.Linear(120, 84),
        torch.nn.ReLU(),
        torch.nn.Linear(84, 10),
    )
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, batch))

    def forward() -> None:
        net(x)

    def step() -> None:
        net.zero_grad(set_to_none=False)
        F.cross_entropy(net(x), y).backward()

    adam = torch.optim.Adam(net.parameters(), lr=1e-3)

    def adam_step() -> None:  # a whole training step, as the engine's fit loop takes one
        adam.zero_grad(set_to_none=False)
        F.cross_entropy(net(x), y).backward()
        adam.step()

    def predict() -> None:
        with torch.no_grad():
            net(x)

    results = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "forward": protocol.best_and_median(forward, repeats),
        "forward_backward": protocol.best_and_median(step, repeats),
        "forward_eval": protocol.best_and_median(predict, repeats),
        "adam_step": protocol.best_and_median(adam_step, repeats),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
