"""The shape calculator: LeNet-5's shapes and parameters, receptive fields, and clear errors."""

import pytest

from engine.architecture import analyse, parse_architecture, parse_input_shape, total_params
from engine.errors import EngineError

LENET5 = "conv 6 5x5, pool 2, conv 16 5x5, pool 2, dense 120, dense 84, dense 10"


def test_lenet5_shapes_and_parameters():
    infos = analyse((1, 32, 32), parse_architecture(LENET5))
    assert [info.shape for info in infos] == [
        (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120,), (84,), (10,),
    ]  # fmt: skip
    assert [info.params for info in infos] == [156, 0, 2416, 0, 48120, 10164, 850]
    assert total_params(infos) == 61706


def test_receptive_fields_grow_layer_by_layer():
    infos = analyse((1, 32, 32), parse_architecture(LENET5))
    # 5, then +1 (pool 2 at jump 1), then +4·2 = 14, then +1·4 = 16; dense sees everything.
    assert [info.receptive_field for info in infos] == [
        (5, 5), (6, 6), (14, 14), (16, 16), (32, 32), (32, 32), (32, 32),
    ]  # fmt: skip
    assert infos[2].fields[0].jump == 2 and infos[3].fields[0].jump == 4


def test_same_padding_stride_and_options():
    infos = analyse(
        (3, 64, 48),
        parse_architecture("conv 8 3x3 same, relu, conv 16 3x3 stride 2 same, avgpool 2, gap"),
    )
    assert [info.shape for info in infos] == [(8, 64, 48), (8, 64, 48), (16, 32, 24),
                                              (16, 16, 12), (16,)]  # fmt: skip
    assert infos[0].params == 8 * 3 * 9 + 8
    assert infos[2].receptive_field == (5, 5)
    assert infos[4].receptive_field == (64, 48)


def test_batchnorm_and_dropout_keep_the_shape():
    infos = analyse((1, 8, 8), parse_architecture("conv 4 3x3, batchnorm, dropout 0.5, flatten"))
    assert infos[1].shape == (4, 6, 6) and infos[1].params == 8
    assert infos[2].shape == (4, 6, 6) and infos[3].shape == (144,)


def test_the_first_impossible_layer_is_named():
    with pytest.raises(EngineError) as caught:
        analyse((1, 14, 14), parse_architecture("conv 6 5x5, pool 2, conv 16 5x5, pool 2"))
    assert str(caught.value) == ("Layer 4 (pool 2): the 2×2 kernel is larger than its 1×1 input.")
    with pytest.raises(EngineError, match=r"Layer 3 \(conv 16 5x5\): the 5×5 kernel"):
        analyse((1, 8, 8), parse_architecture("conv 6 5x5, pool 2, conv 16 5x5"))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("conv 6 5y5", "At character 1 ('conv 6 5y5'): expected a kernel size"),
        ("conv 6 5x5, pool", "At character 13 ('pool'): write pooling as 'pool 2'"),
        ("conv 6 5x5, wibble 3", "At character 13: unknown layer 'wibble'"),
        ("dense x", "expected a number of units"),
        ("conv 6 5x5 sideways", "'sideways' is not an option here"),
        ("dropout 2", "write dropout as 'dropout 0.5'"),
        ("", "Write at least one layer"),
        (", ,", "Write at least one layer"),
        (", ".join(["relu"] * 41), "at most 40 layers"),
    ],
)
def test_parse_errors_name_the_position(text, fragment):
    with pytest.raises(EngineError) as caught:
        parse_architecture(text)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("arch", "shape", "fragment"),
    [
        ("conv 0 3x3", (1, 8, 8), "1 to 4096 filters"),
        ("conv 5000 3x3", (1, 8, 8), "1 to 4096 filters"),
        ("conv 4 99x99", (1, 8, 8), "kernel sizes go from 1 to 64"),
        ("pool 2 stride 0", (1, 8, 8), "stride must be between 1 and 64"),
        ("pool 2 pad 2", (1, 8, 8), "at most half the window"),
        ("dense 10, conv 4 3x3", (1, 8, 8), "its input is a flat vector"),
        ("dense 1000000", (1, 8, 8), "1 to 100000 units"),
    ],
)
def test_absurd_layers_are_refused(arch, shape, fragment):
    with pytest.raises(EngineError, match=fragment):
        analyse(shape, parse_architecture(arch))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1x32x32", (1, 32, 32)), ("32x32", (1, 32, 32)), ("3 × 64 × 48", (3, 64, 48))],
)
def test_input_shapes(text, expected):
    assert parse_input_shape(text) == expected


@pytest.mark.parametrize("text", ["", "32", "1x2x3x4", "axbxc", "0x32x32", "1x99999x2"])
def test_bad_input_shapes(text):
    with pytest.raises(EngineError):
        parse_input_shape(text)


def test_error_template_and_params_are_kept_for_translation():
    with pytest.raises(EngineError) as caught:
        parse_architecture("conv 6 5y5")
    assert "%(pos)s" in caught.value.template
    assert caught.value.params["pos"] == 1
