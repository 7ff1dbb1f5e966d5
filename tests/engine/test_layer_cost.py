"""The shape calculator's new layers against naive computations: grouped, depthwise, dilated,
separable and transposed convolutions, residual adds, multiply-adds and activation memory, and
the published figures of AlexNet, VGG-16 and a ResNet basic block."""

import itertools

import numpy as np
import pytest

from engine import layer_cost
from engine.architecture import (
    analyse,
    parse_architecture,
    parse_input_shape,
    total_macs,
    total_memory,
    total_params,
)
from engine.backprop import conv_input_gradient
from engine.conv import conv2d
from engine.errors import EngineError
from engine.shape_presets import ALEXNET, PRESETS, RESNET_BLOCK, VGG16


def calc(shape, text):
    return analyse(shape, parse_architecture(text, calculator=True))


def naive_grouped_conv(x, w, groups, stride, pad, dilation):
    """x (C, H, W), w (F, C/g, K, K): four loops, counting every product it makes."""
    c, h, wd = x.shape
    f, per_group, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    out_h = (h + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    out_w = (wd + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((f, out_h, out_w))
    products = 0
    for filt, i, j in itertools.product(range(f), range(out_h), range(out_w)):
        group = filt // (f // groups)
        for ch, a, b in itertools.product(range(per_group), range(k), range(k)):
            pixel = xp[group * per_group + ch, i * stride + a * dilation, j * stride + b * dilation]
            out[filt, i, j] += w[filt, ch, a, b] * pixel
            products += 1
    return out, products


@pytest.mark.parametrize(
    ("c", "f", "groups", "k", "stride", "pad", "dilation", "side"),
    [(4, 6, 2, 3, 1, 1, 1, 7), (6, 6, 6, 3, 2, 0, 1, 9), (4, 8, 4, 2, 1, 2, 2, 6),
     (3, 5, 1, 3, 2, 1, 2, 8), (2, 4, 2, 1, 1, 0, 1, 5)],
)  # fmt: skip
def test_grouped_convolution_against_a_naive_loop(c, f, groups, k, stride, pad, dilation, side):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(c, side, side))
    w = rng.normal(size=(f, c // groups, k, k))
    naive, products = naive_grouped_conv(x, w, groups, stride, pad, dilation)
    # The engine's own conv2d, one group at a time, gives the same maps.
    per_in, per_out = c // groups, f // groups
    engine = np.concatenate([
        conv2d(x[None, g * per_in:(g + 1) * per_in], w[g * per_out:(g + 1) * per_out],
               stride=stride, padding=pad, dilation=dilation)[0]
        for g in range(groups)
    ])  # fmt: skip
    np.testing.assert_allclose(engine, naive, atol=1e-9)
    text = f"conv {f} {k}x{k} stride {stride} pad {pad} dilation {dilation} groups {groups}"
    (info,) = calc((c, side, side), text)
    assert info.shape == naive.shape
    assert info.macs == products
    # Parameters counted group by group: each group's filters see only its own channels.
    per_group_weights = sum(per_out * per_in * k * k for _ in range(groups))
    assert info.params == per_group_weights + f == w.size + f
    assert info.groups == groups and info.in_channels == c
    (no_bias,) = calc((c, side, side), text + " nobias")
    assert no_bias.params == w.size


def test_depthwise_is_one_group_per_channel():
    (info,) = calc((8, 10, 10), "dwconv 3x3 same")
    same = calc((8, 10, 10), "conv 8 3x3 same groups 8")[0]
    assert info.shape == same.shape == (8, 10, 10)
    assert info.params == same.params == 8 * 9 + 8
    assert info.macs == same.macs == 10 * 10 * 8 * 9
    (double,) = calc((8, 10, 10), "dwconv 3x3 multiplier 2 stride 2")
    assert double.shape == (16, 4, 4) and double.params == 16 * 9 + 16
    assert double.groups == 8


def test_pointwise_is_a_one_by_one_convolution():
    (info,) = calc((32, 14, 14), "pointwise 64")
    assert info.spec.kernel == (1, 1) and info.spec.kind == "conv"
    assert info.shape == (64, 14, 14)
    assert info.params == 32 * 64 + 64 and info.macs == 14 * 14 * 32 * 64


def test_separable_is_depthwise_then_pointwise():
    (sep,) = calc((16, 12, 12), "sepconv 32 3x3 stride 2 pad 1")
    depthwise, pointwise = calc((16, 12, 12), "dwconv 3x3 stride 2 pad 1 nobias, pointwise 32")
    assert sep.shape == pointwise.shape == (32, 6, 6)
    assert [p.name for p in sep.parts] == ["depthwise", "pointwise"]
    assert (sep.parts[0].params, sep.parts[0].macs) == (depthwise.params, depthwise.macs)
    assert (sep.parts[1].params, sep.parts[1].macs) == (pointwise.params, pointwise.macs)
    assert sep.params == 16 * 9 + 16 * 32 + 32  # Keras' SeparableConv2D
    # Both steps' outputs are kept: the depthwise maps and the pointwise ones.
    assert sep.memory == (16 * 36 + 32 * 36) * 4
    assert sep.receptive_field == depthwise.receptive_field == (3, 3)


def naive_transposed(x, w, stride, pad, dilation, output_padding):
    """x (C, H, W), w (C, F, K, K): every input value scattered through the kernel."""
    c, h, wd = x.shape
    _, f, k, _ = w.shape
    full_h = (h - 1) * stride + dilation * (k - 1) + 1 + output_padding
    full_w = (wd - 1) * stride + dilation * (k - 1) + 1 + output_padding
    out = np.zeros((f, full_h, full_w))
    products = 0
    for ch, i, j in itertools.product(range(c), range(h), range(wd)):
        for filt, a, b in itertools.product(range(f), range(k), range(k)):
            out[filt, i * stride + a * dilation, j * stride + b * dilation] += (
                x[ch, i, j] * w[ch, filt, a, b]
            )
            products += 1
    return out[:, pad : full_h - pad, pad : full_w - pad], products


@pytest.mark.parametrize(
    ("k", "stride", "pad", "dilation", "output_padding", "side"),
    [(4, 2, 1, 1, 0, 5), (3, 2, 1, 1, 1, 4), (3, 1, 0, 1, 0, 6), (2, 3, 0, 2, 1, 4),
     (5, 2, 2, 1, 1, 3), (3, 3, 1, 2, 2, 3)],
)  # fmt: skip
def test_transposed_convolution_against_a_scatter_loop(k, stride, pad, dilation, output_padding,
                                                       side):  # fmt: skip
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, side, side))
    w = rng.normal(size=(2, 3, k, k))
    naive, products = naive_transposed(x, w, stride, pad, dilation, output_padding)
    text = f"deconv 3 {k}x{k} stride {stride} pad {pad} dilation {dilation} outpad {output_padding}"
    (info,) = calc((2, side, side), text)
    assert info.shape == naive.shape
    assert info.shape[1] == (side - 1) * stride - 2 * pad + dilation * (k - 1) + output_padding + 1
    assert info.macs == products
    assert info.params == w.size + 3


@pytest.mark.parametrize(("k", "stride", "pad", "output_padding"),
                         [(4, 2, 1, 0), (3, 2, 1, 1), (5, 3, 2, 2), (3, 1, 1, 0)])  # fmt: skip
def test_transposed_convolution_is_the_backward_pass_of_a_convolution(k, stride, pad,
                                                                      output_padding):  # fmt: skip
    """One channel in, C out: the scatter equals dL/dinput of the convolution it undoes
    (engine.backprop), for the output size that output_padding picks."""
    rng = np.random.default_rng(2)
    dout = rng.normal(size=(4, 5))
    kernel = rng.normal(size=(2, k, k))
    naive, _ = naive_transposed(dout[None], kernel[None], stride, pad, 1, output_padding)
    (info,) = calc((1, 4, 5), f"deconv 2 {k}x{k} stride {stride} pad {pad} outpad {output_padding}")
    expected = conv_input_gradient(kernel, dout, info.shape, stride=stride, padding=pad)
    np.testing.assert_allclose(naive, expected, atol=1e-12)


@pytest.mark.parametrize(
    ("k", "stride", "dilation"), [(3, 1, 1), (4, 2, 1), (2, 2, 3), (5, 2, 2), (3, 3, 1), (7, 3, 2)]
)
def test_transposed_receptive_field_counts_the_inputs_that_reach_one_output(k, stride, dilation):
    n, pad = 9, 1
    out = layer_cost.transposed_output_side(n, k, stride, pad, dilation)
    widest = 0
    for o in range(out):
        inputs = [i for i in range(n) for t in range(k) if i * stride + t * dilation - pad == o]
        if inputs:
            widest = max(widest, max(inputs) - min(inputs))
    assert layer_cost.transposed_field_span(k, stride, dilation) == widest
    (info,) = calc((1, n, n), f"deconv 1 {k}x{k} stride {stride} pad {pad} dilation {dilation}")
    assert info.receptive_field == (widest + 1, widest + 1)
    assert info.fields[0].jump == pytest.approx(1 / stride)


def test_a_residual_add_needs_equal_shapes_and_adds_nothing_to_learn():
    infos = calc((8, 6, 6), "conv 8 3x3 pad 1, relu, add 0, conv 8 1x1, add 2")
    assert infos[4].shape == (8, 6, 6)
    assert infos[2].shape == (8, 6, 6) and infos[2].params == 0 and infos[2].macs == 0
    assert infos[2].receptive_field == (3, 3)  # the wider of its two branches
    with pytest.raises(EngineError, match=r"Layer 5 \(add 2\): it adds 8×6×6 to 4×6×6"):
        calc((8, 6, 6), "conv 8 3x3 pad 1, relu, add 0, conv 4 1x1, add 2")
    with pytest.raises(EngineError, match=r"Layer 2 \(add 2\): an add takes the input \(0\)"):
        calc((8, 6, 6), "relu, add 2")


def test_multiply_adds_and_memory_of_lenet_by_hand():
    text = "conv 6 5x5, pool 2, conv 16 5x5, pool 2, dense 120, dense 84, dense 10"
    infos = calc((1, 32, 32), text)
    assert [i.macs for i in infos] == [28 * 28 * 6 * 25, 0, 10 * 10 * 16 * 6 * 25, 0,
                                       400 * 120, 120 * 84, 84 * 10]  # fmt: skip
    assert total_macs(infos) == 117600 + 240000 + 48000 + 10080 + 840
    assert [i.memory for i in infos] == [4704 * 4, 1176 * 4, 1600 * 4, 400 * 4, 480, 336, 40]
    assert total_memory((1, 32, 32), infos) == (1024 + 4704 + 1176 + 1600 + 400 + 214) * 4


@pytest.mark.parametrize("preset", [ALEXNET, VGG16, RESNET_BLOCK], ids=lambda p: p.key)
def test_presets_match_the_published_figures(preset):
    """Parameters exactly; multiply-adds within 1 % of torchvision's figures, which are
    published to 2 (AlexNet, 0.71) and 4 (VGG-16, 15.47) significant digits."""
    shape = parse_input_shape(preset.input_shape)
    infos = calc(shape, preset.arch)
    assert total_params(infos) == preset.params
    assert total_macs(infos) == pytest.approx(preset.macs, rel=0.01)
    assert PRESETS[preset.key] is preset


def test_preset_layer_by_layer_figures():
    alexnet = calc((3, 224, 224), ALEXNET.arch)
    assert alexnet[0].shape == (64, 55, 55) and alexnet[0].params == 23_296
    assert alexnet[13].shape == (9216,)
    assert total_macs(alexnet) == 714_188_480
    vgg = calc((3, 224, 224), VGG16.arch)
    assert vgg[30].shape == (512, 7, 7)
    assert total_macs(vgg) == 15_470_264_320
    block = calc((64, 56, 56), RESNET_BLOCK.arch)
    conv_weights = sum(i.params for i in block if i.spec.kind == "conv")
    batchnorm = sum(i.params for i in block if i.spec.kind == "batchnorm")
    assert (conv_weights, batchnorm) == (73_728, 256)
    assert block[-1].shape == (64, 56, 56) and block[-1].receptive_field == (5, 5)


@pytest.mark.parametrize(
    ("shape", "text", "fragment"),
    [
        ((6, 8, 8), "conv 4 3x3 groups 4", "4 groups must divide both its 6 input channels"),
        ((6, 8, 8), "conv 9 3x3 groups 2", "and its 9 filters"),
        ((6, 8, 8), "conv 6 3x3 groups 0", "0 groups must divide"),
        ((1, 4, 4), "deconv 2 3x3 pad 9", "gives -12×-12: the padding of 9 is too large"),
        ((1, 4, 4), "deconv 2 3x3 stride 2 outpad 2", "output padding must be smaller than the "
                                                      "stride or the dilation (here at most 1)"),
        ((1, 4, 4), "deconv 2 3x3 same", "takes its padding as 'pad P'"),
        ((1, 4, 4), "conv 2 3x3 dilation 3", "the 3×3 kernel, dilated to 7×7, is larger than"),
        ((1, 4, 4), "conv 2 3x3 dilation 99", "dilation must be between 1 and 64"),
        ((1, 65, 65), "deconv 2 64x64 stride 64", "its output would be 4160×4160"),
        ((1, 8, 8), "conv 2 3x3 pad 999999999", "sides go up to 4096"),
        ((3000, 8, 8), "dwconv 3x3 multiplier 2",
         "input channels × multiplier = 3000 × 2 = 6000 filters"),
        ((4, 8, 8), "dense 10, dwconv 3x3", "its input is a flat vector"),
    ],
)  # fmt: skip
def test_impossible_layers_are_refused_with_the_layer_named(shape, text, fragment):
    with pytest.raises(EngineError) as caught:
        calc(shape, text)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("Layer ")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("conv 6 3x3 groups 2", "'groups' is not an option here"),
        ("conv 6 3x3 nobias", "'nobias' is not an option here"),
        ("dwconv 3x3", "unknown layer 'dwconv'. Use conv, pool"),
        ("deconv 3 4x4", "unknown layer 'deconv'"),
        ("add 0", "unknown layer 'add'"),
    ],
)
def test_the_training_grammar_is_unchanged(text, fragment):
    """The Training lab builds what it parses: the calculator's extra layers stay unknown there."""
    with pytest.raises(EngineError) as caught:
        parse_architecture(text)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("dwconv", "write a depthwise convolution as 'dwconv 3x3'"),
        ("sepconv 3x3", "write a separable convolution as 'sepconv 64 3x3'"),
        ("deconv 4", "write a transposed convolution as 'deconv 32 4x4 stride 2 pad 1'"),
        ("pointwise", "write a 1×1 convolution as 'pointwise 64'"),
        ("add", "write a residual add as 'add 0'"),
        ("add x", "expected a layer number, got 'x'"),
        ("pool 2 groups 2", "'groups' is not an option here"),
        ("dwconv 3x3 outpad 1", "'outpad' is not an option here"),
        ("wibble", "Use conv, pointwise, dwconv, sepconv, deconv, pool"),
    ],
)
def test_calculator_parse_errors(text, fragment):
    with pytest.raises(EngineError) as caught:
        parse_architecture(text, calculator=True)
    assert fragment in str(caught.value)


def test_activation_bytes_are_four_per_float32():
    assert layer_cost.activation_bytes((3, 224, 224)) == 3 * 224 * 224 * 4
    assert layer_cost.activation_bytes((10,), bytes_per_value=2) == 20
    with pytest.raises(ValueError, match="groups must divide"):
        layer_cost.conv_weights(6, 4, 3, 3, groups=4)
