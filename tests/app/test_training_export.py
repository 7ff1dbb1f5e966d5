"""The Training lab's PyTorch export is code that runs: explicit padding numbers (PyTorch refuses
padding='same' with a stride), the engine's 'same' for even kernels (the extra pixel at the end),
and a smoke check that works with batch norm after a dense layer.

The suite has no PyTorch: it compiles the code and reads its padding. With CNN_TORCH_PYTHON set
to a Python that has torch (a separate environment, as for the benchmarks), it also runs every
exported file there, loads the engine's weights into it and compares the outputs.
"""

import json
import os
import subprocess
import textwrap

import numpy as np
import pytest

from app.labs.training.export import export_code
from engine import builder

CONFIG = {"lr": 0.01, "optimizer": "adam", "batch_size": 32, "epochs": 1}
# (layers, batch norm, input (C, H, W)): every layer kind the builder makes.
ARCHITECTURES = {
    "conv same stride 2": ("conv 8 3x3 same stride 2, relu, dense 10", False, (1, 16, 16)),
    "even kernels": (
        "conv 4 4x4 same, relu, pool 2, conv 6 2x2 same stride 2, dense 16",
        False,
        (1, 16, 16),
    ),  # fmt: skip
    "lenet, dense batch norm": (
        "conv 6 5x5 same, relu, pool 2, conv 16 5x5, relu, pool 2, dense 120, relu, dense 84, relu",
        True,
        (1, 16, 16),
    ),  # fmt: skip
    "pool stride and padding": (
        "conv 4 3x3 pad 2, max 3 stride 2 pad 1, avg 2 stride 1, gap",
        True,
        (1, 28, 28),
    ),  # fmt: skip
    "other layers": (
        "conv 4 5x5 stride 3, tanh, dropout 0.5, dense 8, sigmoid, dense 8, leakyrelu",
        True,
        (1, 8, 8),
    ),  # fmt: skip
}


def exported(name: str):
    text, batchnorm, shape = ARCHITECTURES[name]
    model, _ = builder.build(text, shape, 10, batchnorm, np.random.default_rng(0))
    return model, shape, export_code(model, shape, "pytorch", CONFIG)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_pytorch_export_compiles_with_explicit_padding(name):
    _, shape, code = exported(name)
    compile(code, f"<{name}>", "exec")
    assert "padding='same'" not in code and 'padding="same"' not in code
    # The smoke check: two images, evaluation mode (batch norm of one sample fails in training).
    assert f"x = torch.zeros(2, {shape[0]}, {shape[1]}, {shape[2]})" in code
    assert "model.eval()" in code and "torch.Size([2, 10])" in code


def test_pytorch_padding_numbers():
    code = exported("conv same stride 2")[2]
    assert "nn.Conv2d(1, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))" in code
    code = exported("even kernels")[2]
    # 'same' for a 4×4 kernel pads 1 before and 2 after; for 2×2, 0 before and 1 after.
    assert "nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(1, 4, kernel_size=(4, 4), stride=(1, 1), " \
           "padding=0)" in code  # fmt: skip
    assert "nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(4, 6, kernel_size=(2, 2), stride=(2, 2), " \
           "padding=0)" in code  # fmt: skip
    code = exported("pool stride and padding")[2]
    assert "padding=(2, 2))" in code
    assert "nn.MaxPool2d((3, 3), stride=(2, 2), padding=(1, 1))" in code
    assert "nn.AvgPool2d((2, 2), stride=(1, 1))" in code


def test_keras_export_writes_the_engines_padding():
    """Keras' own 'same' with a stride centres its windows (it pads 0 before and 1 after a 3×3 at
    stride 2 on 16 pixels), the engine pads 1 and 1: the export writes the engine's numbers."""
    text, batchnorm, shape = ARCHITECTURES["conv same stride 2"]
    model, _ = builder.build(text, shape, 10, batchnorm, np.random.default_rng(0))
    code = export_code(model, shape, "keras", CONFIG)
    compile(code, "<keras>", "exec")
    assert "padding='same'" not in code
    assert "layers.ZeroPadding2D(((1, 1), (1, 1))), layers.Conv2D(8, (3, 3), strides=(2, 2), " \
           "padding='valid')" in code  # fmt: skip
    text, batchnorm, shape = ARCHITECTURES["pool stride and padding"]
    model, _ = builder.build(text, shape, 10, batchnorm, np.random.default_rng(0))
    code = export_code(model, shape, "keras", CONFIG)
    assert "layers.AveragePooling2D(pool_size=(2, 2), strides=(1, 1))" in code


# Runs one exported file as a student would, then loads the engine's weights into its model (in
# order of the layers that have any) and prints the outputs for the engine's inputs.
DRIVER = textwrap.dedent(
    """
    import json, runpy, sys
    import torch

    for path, data in zip(sys.argv[1::2], sys.argv[2::2]):
        model = runpy.run_path(path)["model"]
        with open(data) as fh:
            data = json.load(fh)
        layers = [m for m in model.modules() if list(m.parameters(recurse=False))]
        assert len(layers) == len(data["weights"]), (len(layers), len(data["weights"]))
        for layer, weights in zip(layers, data["weights"]):
            for key, value in weights.items():
                getattr(layer, key).data.copy_(torch.tensor(value))
        model.eval()
        with torch.no_grad():
            out = model(torch.tensor(data["x"]))
        print("RESULT " + json.dumps(out.tolist()), flush=True)
    """
)


def engine_case(name: str, tmp_path):
    """The exported file and a JSON of weights (BN statistics made non-trivial), inputs and the
    engine's outputs in evaluation mode."""
    model, shape, code = exported(name)
    rng = np.random.default_rng(1)
    weights = []
    for layer in model:
        if not layer.params:
            continue
        for buffer in layer.buffers.values():  # running mean and variance: not 0 and 1
            buffer[...] = rng.uniform(0.5, 1.5, buffer.shape)
        values = {**layer.params, **layer.buffers}
        weights.append({key: value.tolist() for key, value in values.items()})
    x = rng.standard_normal((3, *shape)).astype(np.float32)
    model.eval()
    expected = model.forward(x, training=False)
    slug = name.replace(" ", "-").replace(",", "")
    script, data = tmp_path / f"{slug}.py", tmp_path / f"{slug}.json"
    script.write_text(code)
    data.write_text(json.dumps({"weights": weights, "x": x.tolist()}))
    return script, data, expected


def test_exported_pytorch_code_runs_and_matches_the_engine(tmp_path):
    python = os.environ.get("CNN_TORCH_PYTHON")
    if not python:
        pytest.skip("set CNN_TORCH_PYTHON to a Python with torch to run the exported PyTorch code")
    cases = {name: engine_case(name, tmp_path) for name in ARCHITECTURES}
    (tmp_path / "driver.py").write_text(DRIVER)
    arguments = [str(path) for script, data, _ in cases.values() for path in (script, data)]
    done = subprocess.run([python, "-W", "ignore", str(tmp_path / "driver.py"), *arguments],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    # Each file prints its own smoke check, then the driver prints the outputs.
    assert lines[0::2] == ["torch.Size([2, 10])"] * len(cases), done.stdout
    for (name, (_, _, expected)), line in zip(cases.items(), lines[1::2], strict=True):
        out = np.array(json.loads(line.removeprefix("RESULT ")))
        assert out.shape == expected.shape == (3, 10), name
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4, err_msg=name)
