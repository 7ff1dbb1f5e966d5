"""PyTorch's side of check_interpret: the same four attributions by autograd, for the network
and inputs in an .npz that check_interpret wrote. Run with the Python of a *separate*
environment that has PyTorch (never a dependency of CNN Playground):

    python torch_interpret.py in.npz out.npz

The network: conv 4 3×3 pad 1 → ReLU → maxpool 2 → conv 8 3×3 pad 1 → ReLU → flatten →
dense 10, in float64, the engine's layouts (conv (F, C, KH, KW), dense (out, in), flatten C·H·W).
"""

import sys

import numpy as np
import torch


def main() -> None:
    data = np.load(sys.argv[1])
    torch.set_default_dtype(torch.float64)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(8 * 8 * 8, 10),
    )  # fmt: skip
    for index, name in ((0, "0"), (3, "3"), (6, "6")):
        net[index].weight.data = torch.from_numpy(data[f"{name}.weight"])
        net[index].bias.data = torch.from_numpy(data[f"{name}.bias"])
    x, target = torch.from_numpy(data["x"]), torch.from_numpy(data["target"])
    rows = torch.arange(len(x))

    def saliency(inputs):
        inputs = inputs.clone().requires_grad_(True)
        net(inputs)[rows, target].sum().backward()
        return inputs.grad

    # Grad-CAM at the second ReLU (index 4): the mean gradient per channel weights the channels.
    head, tail = net[:5], net[5:]
    activation = head(x).detach().requires_grad_(True)
    tail(activation)[rows, target].sum().backward()
    alpha = activation.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((alpha * activation).sum(dim=1))

    steps = int(data["steps"])
    total = sum(saliency((k + 0.5) / steps * x) for k in range(steps))
    ig = x * total / steps

    size, stride, fill = 3, 2, 0.25
    with torch.no_grad():
        base = torch.softmax(net(x), dim=1)[rows, target]
        cells = (x.shape[2] - size) // stride + 1
        drop = torch.zeros(len(x), cells, cells)
        for r in range(cells):
            for c in range(cells):
                covered = x.clone()
                covered[:, :, r * stride : r * stride + size, c * stride : c * stride + size] = fill
                drop[:, r, c] = base - torch.softmax(net(covered), dim=1)[rows, target]
    np.savez(sys.argv[2], saliency=saliency(x).numpy(), cam=cam.detach().numpy(), ig=ig.numpy(),
             occlusion=drop.numpy())  # fmt: skip


if __name__ == "__main__":
    main()
