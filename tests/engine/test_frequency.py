"""engine.frequency against a naive DFT loop in float64 and responses derived by hand: a box
filter's Dirichlet kernel (the sampled sinc), a difference's |2 sin(πf)|, the comb of an echo;
and the convolution theorem on real arrays."""

import math

import numpy as np
import pytest

from engine import frequency, signals
from engine.kernels import get_kernel


def naive_dft_2d(kernel: np.ndarray, size: int) -> np.ndarray:
    """H(fy, fx) = Σ_r Σ_c k[r, c] e^{−2πi(fy·r + fx·c)}, one frequency at a time, on the shifted
    grid fy, fx = (a − size // 2) / size."""
    out = np.zeros((size, size), dtype=np.complex128)
    for a in range(size):
        fy = (a - size // 2) / size
        for b in range(size):
            fx = (b - size // 2) / size
            total = 0j
            for r in range(kernel.shape[0]):
                for c in range(kernel.shape[1]):
                    angle = -2 * math.pi * (fy * r + fx * c)
                    total += kernel[r, c] * complex(math.cos(angle), math.sin(angle))
            out[a, b] = total
    return out


def naive_dft_1d(h: np.ndarray, n: int) -> np.ndarray:
    return np.array(
        [
            sum(h[m] * np.exp(-2j * np.pi * k * m / n) for m in range(h.size))
            for k in range(n // 2 + 1)
        ]
    )


def dirichlet(f: np.ndarray, width: int) -> np.ndarray:
    """|Σ_{m<w} e^{−2πifm}| / w = |sin(πfw) / (w sin(πf))|: the box filter's sinc, 1 at f = 0."""
    f = np.asarray(f, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.abs(np.sin(np.pi * f * width) / (width * np.sin(np.pi * f)))
    return np.where(np.isclose(np.sin(np.pi * f), 0), 1.0, value)


# --- 2-D responses ----------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "size"), [((3, 3), 8), ((2, 5), 8), ((4, 1), 6), ((5, 5), 5)])
def test_response_2d_matches_a_naive_dft_loop(shape, size):
    kernel = np.random.default_rng(sum(shape) + size).standard_normal(shape)
    np.testing.assert_allclose(frequency.response_2d(kernel, size), naive_dft_2d(kernel, size),
                               atol=1e-12)  # fmt: skip


def test_frequencies_run_from_minus_half_with_zero_in_the_centre():
    f = frequency.frequencies_2d(64)
    assert f[0] == -0.5 and f[32] == 0.0 and f[-1] == pytest.approx(0.5 - 1 / 64)
    assert f.shape == (64,)


def test_box_blur_is_a_separable_sinc_and_low_pass():
    size = 64
    response = np.abs(frequency.response_2d(get_kernel("box_blur", size=3), size))
    f = frequency.frequencies_2d(size)
    expected = np.outer(dirichlet(f, 3), dirichlet(f, 3))
    np.testing.assert_allclose(response, expected, atol=1e-12)
    gains = frequency.kernel_gains(get_kernel("box_blur", size=3))
    # Zero frequency: the sum, 1. Highest: |1 + 2cos(π)| / 3 = 1/3 at (0.5, 0) on the edge.
    assert gains.zero == pytest.approx(1.0) and gains.highest == pytest.approx(1 / 3)
    assert gains.peak_at == (0.0, 0.0) and gains.kind == "low-pass"
    # Its first zeros are at ±1/3 cycles/pixel, where three pixels hold one whole wave.
    assert frequency.kernel_gains(get_kernel("box_blur", size=3), size=3 * 64).lowest < 1e-12


def test_gaussian_keeps_the_average_and_about_two_percent_at_the_highest_frequency():
    gains = frequency.kernel_gains(get_kernel("gaussian", size=5, sigma=1.0))
    g = np.exp(-(np.arange(-2, 3) ** 2) / 2)
    # Along one axis at 0.5 cycles/pixel the taps alternate in sign; across, it is the sum.
    alternating = abs(np.sum(g * (-1.0) ** np.arange(5))) / g.sum()
    assert gains.zero == pytest.approx(1.0)
    assert gains.highest == pytest.approx(alternating) and 0.02 < alternating < 0.03
    assert gains.kind == "low-pass"


def test_sobel_x_is_band_pass_with_zero_gain_at_zero_frequency():
    gains = frequency.kernel_gains(get_kernel("sobel_x"))
    # Sobel x = [1 2 1]ᵀ ⊗ [−1 0 1]: |2 + 2cos(2πfy)| · |2 sin(2πfx)|, largest 4·2 at (0, 0.25).
    f = frequency.frequencies_2d(64)
    expected = np.outer(np.abs(2 + 2 * np.cos(2 * np.pi * f)), np.abs(2 * np.sin(2 * np.pi * f)))
    np.testing.assert_allclose(np.abs(frequency.response_2d(get_kernel("sobel_x"), 64)), expected,
                               atol=1e-12)  # fmt: skip
    assert gains.zero == pytest.approx(0, abs=1e-12) and gains.highest == pytest.approx(
        0, abs=1e-12
    )
    assert gains.peak == pytest.approx(8.0) and gains.peak_at == (0.0, 0.25)
    # Along x it acts as its column sums [−4 0 4]: band-pass; along y as its row sums [0 0 0].
    assert gains.along_x.kind == "band-pass" and gains.along_x.peak == pytest.approx(8.0)
    assert gains.along_y.kind == "zero" and gains.kind == "mixed"


def test_a_one_row_blur_is_low_pass_along_x_and_all_pass_along_y():
    gains = frequency.kernel_gains(np.array([[1.0, 1.0, 1.0]]) / 3)
    assert gains.along_x.kind == "low-pass" and gains.along_x.highest == pytest.approx(1 / 3)
    assert gains.along_y.kind == "all-pass" and gains.along_y.lowest == pytest.approx(1.0)
    assert gains.kind == "mixed"


@pytest.mark.parametrize(
    ("name", "zero", "highest", "kind"),
    [
        ("identity", 1.0, 1.0, "all-pass"),
        ("laplacian", 0.0, 8.0, "high-pass"),  # −4 + 2cos + 2cos: 8 at (0.5, 0.5)
        ("sharpen", 1.0, 9.0, "high-pass"),  # 5 − 2cos − 2cos: 1 at 0, 9 at (0.5, 0.5)
        ("outline", 0.0, 12.0, "high-pass"),
        ("box_blur", 1.0, 1 / 3, "low-pass"),
        ("emboss", 1.0, 5**0.5, "band-pass"),  # 1 at zero frequency, 7.1 near (0.14, 0.16)
        ("prewitt_y", 0.0, 2.0, "mixed"),  # nothing along x, band-pass along y
    ],
)
def test_named_kernels_gains_and_kind(name, zero, highest, kind):
    gains = frequency.kernel_gains(get_kernel(name))
    assert gains.zero == pytest.approx(zero, abs=1e-12)
    assert gains.highest == pytest.approx(highest)
    assert gains.kind == kind


def test_flipping_a_kernel_keeps_its_gains():
    kernel = np.random.default_rng(3).standard_normal((3, 5))
    a = np.abs(frequency.response_2d(kernel, 16))
    b = np.abs(frequency.response_2d(kernel[::-1, ::-1], 16))
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_dilation_compresses_the_response():
    # A dilated kernel's response is the original's at d·f: H_d(f) = H(d·f).
    kernel = np.random.default_rng(4).standard_normal((3, 3))
    dilated = frequency.dilate(kernel, 2)
    assert dilated.shape == (5, 5) and dilated[::2, ::2].tolist() == kernel.tolist()
    assert not dilated[1::2].any() and not dilated[:, 1::2].any()  # the inserted zeros
    small, big = frequency.response_2d(kernel, 32), frequency.response_2d(dilated, 64)
    np.testing.assert_allclose(big[16:48, 16:48], small, atol=1e-12)


def test_grid_grows_with_the_kernel_and_refuses_to_wrap_it():
    assert frequency.response_size((3, 3)) == 64
    assert frequency.response_size((15, 225)) == 256
    with pytest.raises(ValueError, match="at least"):
        frequency.response_2d(np.ones((9, 9)), 8)
    with pytest.raises(ValueError, match=r"\(K, K'\)"):
        frequency.response_2d(np.ones(3))


# --- 1-D responses ----------------------------------------------------------------------------


def test_response_1d_matches_a_naive_dft_and_spans_zero_to_nyquist():
    h = np.random.default_rng(5).standard_normal(7)
    freqs, response = frequency.response_1d(h, 20, rate=16_000)
    np.testing.assert_allclose(response, naive_dft_1d(h, 20), atol=1e-12)
    assert freqs[0] == 0 and freqs[-1] == 8000 and freqs[1] == 800


def test_difference_is_two_sine_pi_f():
    rate = 16_000
    freqs, response = frequency.response_1d(signals.difference_ir(), 512, rate)
    np.testing.assert_allclose(np.abs(response), np.abs(2 * np.sin(np.pi * freqs / rate)),
                               atol=1e-12)  # fmt: skip
    gains = frequency.gains_1d(signals.difference_ir())
    assert gains.zero == 0 and gains.highest == pytest.approx(2) and gains.kind == "high-pass"


def test_moving_average_is_a_sinc_with_zeros_at_multiples_of_rate_over_width():
    rate, width = 16_000, 8
    freqs, response = frequency.response_1d(signals.moving_average_ir(width), 1024, rate)
    np.testing.assert_allclose(np.abs(response), dirichlet(freqs / rate, width), atol=1e-12)
    assert abs(response[np.searchsorted(freqs, rate / width)]) < 1e-12  # 2000 Hz
    gains = frequency.gains_1d(signals.moving_average_ir(width))
    assert gains.kind == "low-pass" and gains.zero == pytest.approx(1) and gains.highest < 1e-12


def test_echo_is_a_comb_between_one_over_one_plus_and_one_over_one_minus_decay():
    # h = δ + a·δ(n − D) (one echo): |H| = |1 + a e^{−2πifD}| from 1 − a to 1 + a, teeth every
    # rate / D Hz. The DTFT over the taps gives it at any frequency.
    rate, delay, decay = 16_000, 4000, 0.5
    h = signals.echo_ir(delay, decay, 1)
    f = np.array([0.0, rate / delay / 2, rate / delay, 2.5 * rate / delay])
    np.testing.assert_allclose(np.abs(frequency.dtft(h, f, rate)), [1.5, 0.5, 1.5, 0.5],
                               atol=1e-9)  # fmt: skip
    freqs, response = frequency.response_1d(h, 8 * h.size, rate)
    np.testing.assert_allclose(frequency.dtft(h, freqs, rate), response, atol=1e-8)


def test_gains_carry_no_round_off_in_their_last_digits():
    # 1 + 0.5 + 0.25 + 0.125 at 0 Hz and at Nyquist: both exactly 1.875, not 1.8749999…
    gains = frequency.gains_1d(signals.echo_ir(4000, 0.5, 3), 24002)
    assert gains.zero == gains.highest == gains.peak == 1.875


def test_magnitude_db_has_a_floor():
    np.testing.assert_allclose(frequency.magnitude_db([1, 10, 0.001, 0], -80), [0, 20, -60, -80])


@pytest.mark.parametrize(
    ("zero", "highest", "peak", "lowest", "kind"),
    [
        (1, 0.1, 1, 0, "low-pass"),
        (0, 2, 2, 0, "high-pass"),
        (0, 0, 8, 0, "band-pass"),
        (2, 2, 2, 0, "band-stop"),
        (1, 1, 1, 0.99, "all-pass"),
        (0, 0, 0, 0, "zero"),
        # The −3 dB line: 0.71 of the largest gain is passed, 0.70 is not.
        (0.71, 1, 1, 0, "band-stop"),
        (0.70, 1, 1, 0, "high-pass"),
    ],
)
def test_classify_by_half_power(zero, highest, peak, lowest, kind):
    assert frequency.classify(zero, highest, peak, lowest) == kind


# --- the convolution theorem -----------------------------------------------------------------


def test_theorem_holds_with_padding_to_the_full_length():
    rng = np.random.default_rng(6)
    x, h = rng.standard_normal(300), rng.standard_normal(40)
    y = signals.convolve_naive(x, h)
    check = frequency.theorem_check(x, h, y)
    assert check.n == 339
    assert check.relative_error < 1e-13
    np.testing.assert_allclose(check.y_spectrum, naive_dft_1d(y, 339), atol=1e-9)
    np.testing.assert_allclose(check.product, check.y_spectrum, atol=1e-10)
    assert frequency.theorem_error(x, h) < 1e-13


def test_without_padding_the_product_is_the_circular_convolution():
    rng = np.random.default_rng(7)
    x = rng.standard_normal(200)
    h = signals.echo_ir(50, 0.8, 2)  # 101 taps: its tail wraps far into y
    error = frequency.theorem_error(x, h, n=200)
    assert error > 0.1
    # ...and it is the spectrum of y with the tail added back onto its start.
    y = np.convolve(x, h)
    circular = y[:200].copy()
    circular[: y.size - 200] += y[200:]
    np.testing.assert_allclose(np.fft.rfft(circular), np.fft.rfft(x) * np.fft.rfft(h, 200),
                               atol=1e-9)  # fmt: skip


def test_theorem_measures_a_float32_output_at_float32_precision():
    rng = np.random.default_rng(8)
    x = rng.standard_normal(4000).astype(np.float32)
    h = signals.reverb_ir(500, 0.4, rng)
    y = signals.convolve(x, h.astype(np.float32), method="fft")
    error = frequency.theorem_check(x, h, y).relative_error
    assert 1e-9 < error < 1e-5


def test_theorem_refuses_a_y_of_the_wrong_length():
    with pytest.raises(ValueError, match="L \\+ M − 1"):
        frequency.theorem_check(np.ones(5), np.ones(3), np.ones(6))
