"""engine.signals against hand-computed values and naive loops, in float64."""

import numpy as np
import pytest

from engine import signals
from engine.conv import conv_naive
from engine.errors import EngineError


def test_echo_ir_by_hand():
    h = signals.echo_ir(delay=3, decay=0.5, repeats=2)
    np.testing.assert_array_equal(h, [1, 0, 0, 0.5, 0, 0, 0.25])


def test_echo_is_signal_plus_delayed_decayed_copies():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(50)
    delay, decay, repeats = 7, 0.6, 3
    y = signals.convolve(x, signals.echo_ir(delay, decay, repeats))
    # By hand: x, plus x shifted by k·delay and scaled by decay^k, summed on a longer canvas.
    expected = np.zeros(50 + repeats * delay)
    for k in range(repeats + 1):
        expected[k * delay : k * delay + 50] += decay**k * x
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, atol=1e-12)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_convolve_matches_the_definition(method):
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal(40), rng.standard_normal(9)
    y = signals.convolve(x, h, method=method)
    np.testing.assert_allclose(y, signals.convolve_naive(x, h), atol=1e-10)
    np.testing.assert_allclose(y, np.convolve(x, h), atol=1e-10)


def test_fft_and_direct_paths_agree_on_a_long_dense_kernel():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3000))  # stereo
    h = signals.reverb_ir(700, 0.5, np.random.default_rng(3))
    direct = signals.convolve(x, h, method="direct")
    fft = signals.convolve(x, h, method="fft")
    assert direct.shape == fft.shape == (2, 3700)
    np.testing.assert_allclose(direct, fft, atol=1e-9)
    np.testing.assert_allclose(direct[1], np.convolve(x[1], h), atol=1e-9)


def test_float32_in_float32_out():
    x = np.ones(100, dtype=np.float32)
    assert signals.convolve(x, np.array([0.5, 0.5], dtype=np.float32)).dtype == np.float32


def test_plan_picks_direct_for_a_sparse_echo_and_fft_for_a_long_reverb():
    echo = signals.echo_ir(4000, 0.5, 3)
    plan = signals.plan_convolution(48_000, echo)
    assert plan.method == "direct" and plan.taps == 4
    assert plan.out_length == 48_000 + 12_000
    assert plan.direct_macs == 4 * 48_000  # each non-zero tap multiplies every input sample
    reverb = signals.reverb_ir(32_000, 0.5, np.random.default_rng(0))
    plan = signals.plan_convolution(48_000, reverb)
    assert plan.method == "fft" and plan.fft_ms < plan.direct_ms
    assert plan.fft_size >= 48_000 + 32_000


def test_reverb_ir_dry_part_tail_energy_decay_and_seed():
    h = signals.reverb_ir(1000, 0.3, np.random.default_rng(5))
    assert h.shape == (1001,)
    assert h[0] == pytest.approx(0.7)  # (1 - mix) of the dry sound
    assert np.sum(h[1:] ** 2) == pytest.approx(0.3**2)  # the tail has unit energy, times mix
    # Fades by 60 dB over its length: the last tenth holds far less energy than the first.
    assert np.sum(h[901:] ** 2) < 1e-3 * np.sum(h[1:101] ** 2)
    again = signals.reverb_ir(1000, 0.3, np.random.default_rng(5))
    np.testing.assert_array_equal(h, again)


def test_reverb_length_zero_is_refused():
    with pytest.raises(EngineError, match="more than 0"):
        signals.reverb_ir(0, 0.5, np.random.default_rng(0))


def test_moving_average_and_difference():
    np.testing.assert_allclose(signals.moving_average_ir(4), [0.25] * 4)
    np.testing.assert_array_equal(signals.difference_ir(), [1, -1])
    y = signals.convolve(np.array([1.0, 1, 1, 5, 5]), signals.difference_ir())
    np.testing.assert_allclose(y, [1, 0, 0, 4, 0, -5], atol=1e-12)  # only changes pass


def test_echo_that_would_blow_up_is_refused():
    with pytest.raises(EngineError, match="decay below 1"):
        signals.echo_ir(10, 1.2, 10)
    with pytest.raises(EngineError, match="decay below 1"):
        signals.echo_ir(10, 1.0, signals.MAX_GROWING_REPEATS + 1)
    assert signals.echo_ir(10, 1.0, signals.MAX_GROWING_REPEATS).max() == 1.0
    with pytest.raises(EngineError):
        signals.echo_ir(0, 0.5, 2)


def test_normalise_reports_the_gain():
    y, gain = signals.normalise(np.array([0.5, -2.0, 1.0]))
    assert gain == pytest.approx(0.99 / 2)
    assert np.abs(y).max() == pytest.approx(0.99)
    quiet, gain = signals.normalise(np.array([0.2, -0.1]))
    assert gain == 1.0 and quiet.max() == 0.2  # not boosted


def test_envelope_is_the_min_and_max_of_each_run():
    x = np.random.default_rng(3).standard_normal(1000)
    lows, highs = signals.envelope(x, 7)
    edges = np.linspace(0, 1000, 8).astype(int)
    for i in range(7):
        run = x[edges[i] : edges[i + 1]]
        assert lows[i] == run.min() and highs[i] == run.max()
    short = np.arange(5.0)
    np.testing.assert_array_equal(signals.envelope(short, 10)[1], short)


def test_spectrogram_finds_a_pure_tone():
    rate = 8000
    t = np.arange(rate) / rate
    spec = signals.spectrogram(np.sin(2 * np.pi * 1000 * t), rate, window=256)
    assert spec.power_db.shape[0] == 129
    peak_bin = int(np.argmax(spec.power_db[:, 5]))
    assert peak_bin * rate / 256 == pytest.approx(1000, abs=rate / 256)
    assert spec.power_db.max() == pytest.approx(0.0)


def test_slide_step_by_hand():
    x, h = [1.0, 0, 0, 2], [1.0, 0.5, 0.25]
    step = signals.slide_step(x, h, 2)
    np.testing.assert_array_equal(step.flipped, [0.25, 0.5, 1.0])
    np.testing.assert_array_equal(step.indices, [0, 1, 2])
    np.testing.assert_array_equal(step.products, [0.25, 0, 0])
    assert step.total == 0.25
    assert step.correlation == 1.0  # unflipped: h[0]·x[0]
    np.testing.assert_allclose(step.output, [1, 0.5, 0.25, 2, 1, 0.5])
    first = signals.slide_step(x, h, 0)
    np.testing.assert_array_equal(first.inside, [False, False, True])
    np.testing.assert_array_equal(first.values, [0, 0, 1])


def test_every_slide_step_sums_to_the_convolution():
    rng = np.random.default_rng(4)
    x, h = rng.integers(-3, 4, 9).astype(float), rng.integers(-2, 3, 4).astype(float)
    full = np.convolve(x, h)
    totals = [signals.slide_step(x, h, n).total for n in range(full.size)]
    np.testing.assert_allclose(totals, full)
    with pytest.raises(EngineError):
        signals.slide_step(x, h, full.size)


def test_an_impulse_gives_back_the_kernel_in_order():
    h = [3.0, 2.0, 1.0]
    out = signals.slide_step([0.0, 1.0, 0.0, 0.0], h, 0).output
    np.testing.assert_array_equal(out, [0, 3, 2, 1, 0, 0])


def test_temporal_difference_lights_only_the_moving_squares_edges():
    clip = signals.moving_square(frames=6, size=32, side=8, step=2)  # (T, H, W)
    out = signals.filter_volume(clip, signals.video_kernel("tdiff"))
    assert out.shape == (5, 32, 32)
    top = (32 - 8) // 2
    for t in range(5):
        expected = np.zeros((32, 32))
        left = 2 + 2 * t
        expected[top : top + 8, left + 8 : left + 10] = 1.0  # where the square arrived
        expected[top : top + 8, left : left + 2] = -1.0  # where it left
        np.testing.assert_array_equal(out[t], expected)


def test_still_things_vanish_under_the_temporal_difference():
    clip = signals.moving_shapes(frames=8, size=64)
    out = signals.filter_volume(clip.astype(np.float64), signals.video_kernel("tdiff"))
    bar_columns = slice(64 - 12, 64 - 6)
    assert np.all(out[:, 10:50, bar_columns] == 0)
    assert np.abs(out).max() > 0


@pytest.mark.parametrize("name", ["tblur", "tdiff", "stedge", "sedge"])
def test_filter_volume_matches_the_naive_loop(name):
    rng = np.random.default_rng(6)
    volume = rng.standard_normal((3, 6, 9, 8))  # (C, T, H, W)
    kernel = signals.video_kernel(name, depth=3)
    stride, padding = (2, 1, 2), (1, 0, 1)
    out = signals.filter_volume(volume, kernel, stride, padding)
    w = np.repeat(kernel[None, None], 3, axis=1)  # one filter over three channels
    expected = conv_naive(volume[None], w, stride=stride, padding=padding)[0, 0]
    np.testing.assert_allclose(out, expected, atol=1e-10)
    assert out.shape == signals.volume_output_shape(volume.shape[1:], kernel.shape, stride, padding)


def test_video_kernels():
    assert signals.video_kernel("tblur", 4).shape == (4, 1, 1)
    assert signals.video_kernel("tblur", 4).sum() == pytest.approx(1)
    np.testing.assert_array_equal(signals.video_kernel("tdiff").ravel(), [-1, 1])
    stedge = signals.video_kernel("stedge")
    assert stedge.shape == (3, 3, 3)
    np.testing.assert_array_equal(stedge[0], -stedge[2])
    assert not stedge[1].any()
    assert signals.video_kernel("sedge").shape == (1, 3, 3)
    with pytest.raises(EngineError):
        signals.video_kernel("nope")


def test_volume_output_shape():
    assert signals.volume_output_shape((24, 64, 64), (3, 3, 3), (1, 2, 2), (1, 1, 1)) == (
        24,
        32,
        32,
    )
