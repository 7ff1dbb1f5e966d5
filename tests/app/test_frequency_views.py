"""The frequency views over HTTP: the Filters lab's response pictures and sentences, the Signals
lab's frequency response and convolution theorem, in both languages, and bad input."""

import io
import re
from html import unescape

import numpy as np
import pytest
from PIL import Image

from app.media import wav
from engine import frequency
from engine.kernels import get_kernel
from tests.app.conftest import HX

HX_SOUND = {**HX, "HX-Target": "sound", "X-Error-Target": "#controls-error"}


def png_of(response) -> np.ndarray:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


def texts(html: str, testid: str) -> list[str]:
    """The visible text of every element with this data-testid, tags dropped, spaces squeezed."""
    found = re.findall(rf'<(p|div|strong)\b[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    # Spaces squeezed, but not the no-break space Portuguese puts before "%".
    return [re.sub(r"[ \t\n]+", " ", unescape(re.sub(r"<[^>]+>", "", f))).strip() for _, f in found]


# Viridis at nine stops, dark purple (gain 0) to yellow (the largest gain).
STOPS = np.array([(68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
                  (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)])  # fmt: skip
PURPLE, YELLOW = (68, 1, 84), (253, 231, 37)


def viridis(share: np.ndarray) -> np.ndarray:
    at = np.linspace(0, 1, 9)
    return np.round(np.stack([np.interp(share, at, STOPS[:, c]) for c in range(3)], -1))


def portuguese(client):
    client.cookies.set("lang", "pt_BR")
    return client


# --- Filters: the pictures --------------------------------------------------------------------


def test_response_picture_is_the_normalised_gain_with_zero_frequency_in_the_centre(client):
    pixels = png_of(client.get("/filters/frequency.png?sample=camera&f=gaussian&f=sobel_x&index=1"))
    assert pixels.shape == (64, 64, 3)
    # Sobel x: |2 + 2cos(2πfy)| · |2 sin(2πfx)|, largest (8) at fx = ±0.25: columns 32 ± 16.
    gains = np.abs(frequency.response_2d(get_kernel("sobel_x"), 64))
    np.testing.assert_array_equal(pixels, viridis(gains / gains.max()))
    assert tuple(pixels[32, 48]) == tuple(pixels[32, 16]) == YELLOW
    assert (pixels[:, 32] == PURPLE).all()  # fx = 0: nothing passes


def test_gaussian_picture_is_bright_in_the_centre_and_dark_at_the_edges(client):
    pixels = png_of(client.get("/filters/frequency.png?sample=camera&f=gaussian&size=5&sigma=1"))
    assert tuple(pixels[32, 32]) == YELLOW
    assert tuple(pixels[0, 0]) == PURPLE and pixels[32, 0, 1] < 10  # 2.3 %: nearly purple


def test_colour_kernel_has_one_picture_per_slice_and_their_sum(client):
    query = "sample=camera&colour=rgb&f=custom&kernel=" + "1 1 1%0A%0A0 1 0%0A%0A-1 2 -1"
    red = png_of(client.get(f"/filters/frequency.png?{query}&part=0"))
    total = png_of(client.get(f"/filters/frequency.png?{query}&part=sum"))
    # Sum of the slices [1 1 1] + [0 1 0] + [−1 2 −1] = [0 4 0]: a flat response (all white).
    assert (total == YELLOW).all()
    assert tuple(red[32, 32]) == YELLOW
    np.testing.assert_array_equal(red[32, 0], viridis(1 / 3))  # |1 + 2cos(π)| / 3 at fx = 0.5
    html = client.get(f"/filters?{query}").text
    assert html.count('data-testid="frequency-slice"') == 4
    assert "part=sum" in html and "sum of the three slices" in html
    assert "Each channel has its own slice" in html


def test_dilated_kernel_response_repeats(client):
    pixels = png_of(client.get("/filters/frequency.png?sample=camera&f=box_blur&size=3&dilation=2"))
    # With one zero between the taps, H_d(f) = H(2f): the bright centre comes back at fx = 0.5.
    assert (pixels[[32, 32, 0], [32, 0, 0]] == YELLOW).all()
    html = client.get("/filters?sample=camera&f=box_blur&size=3&dilation=2").text
    assert "With dilation 2 the kernel applied has 1 zeros between its taps (5×5 in all)" in html


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("f=gaussian&part=7", 404, "Unknown channel"),
        ("f=gaussian&part=%3Cb%3Ex%3C/b%3E", 404, "Unknown channel"),
        ("f=gaussian&index=99", 422, "Feature map"),
        ("f=gaussian&part=1", 404, "only for colour"),  # a grey picture has one channel
        ("f=nope", 404, "Unknown filter"),
    ],
)
def test_bad_picture_requests_are_refused_with_a_reason(client, query, status, words):
    response = client.get(f"/filters/frequency.png?sample=camera&{query}")
    assert response.status_code == status
    assert words in unescape(response.text)
    assert "<b>x</b>" not in response.text


def test_an_index_past_the_bank_shows_its_last_kernel(client):
    last = png_of(client.get("/filters/frequency.png?sample=camera&f=gaussian&f=sobel_x&index=5"))
    sobel = png_of(client.get("/filters/frequency.png?sample=camera&f=gaussian&f=sobel_x&index=1"))
    np.testing.assert_array_equal(last, sobel)


# --- Filters: the sentences -------------------------------------------------------------------


def test_sentences_give_the_measured_gains_and_the_kind(client):
    html = client.get("/filters?sample=camera&f=gaussian&f=sobel_x&f=laplacian").text
    assert 'id="frequency"' in html
    sentences, kinds = texts(html, "frequency-sentence"), texts(html, "frequency-kind")
    assert len(sentences) == len(kinds) == 3
    # Gaussian 5×5, σ = 1: the taps alternate at 0.5 cycles/pixel, leaving 2.3 % (computed).
    expected = "This kernel keeps 100% of the average brightness (gain at zero frequency: 1.00)"
    assert sentences[0].startswith(expected + " and 2.3% at the highest frequency")
    assert kinds[0].startswith("Low-pass:")
    assert "(gain at zero frequency: 0.00)" in sentences[1]
    assert "its largest gain is 8.00, at (fx, fy) = (0.25, 0)" in sentences[1]
    assert "band-pass along x" in kinds[1] and "passes nothing along y" in kinds[1]
    # Laplacian: −4 + 2cos(2πfx) + 2cos(2πfy): 4 at (0.5, 0), 8 at (0.5, 0.5).
    assert "and 400% at the highest frequency (gain 4.00" in sentences[2]
    assert "largest gain is 8.00, at (fx, fy) = (0.5, 0.5)" in sentences[2]
    assert kinds[2].startswith("High-pass:")


def test_one_row_kernel_is_low_pass_along_x_and_all_pass_along_y(client):
    html = client.get("/filters?sample=camera&f=custom&kernel=0.5 0 0.25 0 0.125&op=convolve").text
    (sentence,) = texts(html, "frequency-sentence")
    (kind,) = texts(html, "frequency-kind")
    assert "keeps 87.5% of the average brightness" in sentence  # 0.5 + 0.25 + 0.125
    # An echo with a step of 2 pixels: a comb along x, |0.5 − 0.25 + 0.125| = 0.375 at 0.25
    # cycles/pixel against 0.875 at 0 and 0.5; nothing changes along y.
    assert "band-stop along x" in kind and "all-pass along y" in kind
    assert "gains are the same" in html  # true convolution flips; the gains do not change


def test_portuguese_sentences_write_numbers_the_brazilian_way(client):
    html = portuguese(client).get("/filters?sample=camera&f=gaussian").text
    (sentence,) = texts(html, "frequency-sentence")
    assert sentence.startswith("Este kernel mantém 100\u00a0% do brilho médio (ganho na frequência "
                               "zero: 1,00) e 2,3\u00a0% na frequência mais alta")  # fmt: skip
    assert texts(html, "frequency-kind")[0].startswith("Passa-baixas:")
    assert "fx (ciclos/pixel)" in html


def test_axis_profiles_are_the_box_filters_sinc_from_zero_to_half():
    from app.labs.filters.frequency import slice_response

    response = slice_response(get_kernel("box_blur", size=3), "0", 64)
    f = np.arange(33) / 64  # 0, 1/64, …, 0.5 cycles/pixel
    expected = np.abs(1 + 2 * np.cos(2 * np.pi * f)) / 3
    np.testing.assert_allclose(response.along_x, expected, atol=1e-12)
    np.testing.assert_allclose(response.along_y, expected, atol=1e-12)
    sobel = slice_response(get_kernel("sobel_x"), "0", 64)
    np.testing.assert_allclose(sobel.along_x, 4 * np.abs(2 * np.sin(2 * np.pi * f)), atol=1e-12)
    assert max(sobel.along_y) < 1e-12


def test_profile_chart_is_one_click_away(client):
    html = client.get("/filters?sample=camera&f=sobel_x").text
    profile = re.search(r'<details class="frequency-profile">(.*?)</details>', html, re.S).group(1)
    assert "Gains along the two axes" in profile
    assert profile.count("<polyline") == 2 and "along y (fx = 0)" in profile


def test_a_stride_says_how_much_of_the_kernels_gain_it_cannot_hold(client):
    html = client.get("/filters?sample=camera&f=box_blur&size=3&stride=2").text
    (aliasing,) = texts(html, "frequency-aliasing")
    # Box 3×3: |1 + 2cos(2πf)| / 3 is 1/3 at fx = 0.5, past 0.5 / 2 = 0.25 cycles/pixel.
    assert "only up to 0.25 cycles/pixel (0.5 / 2)" in aliasing
    assert "up to 33.3% of its largest gain" in aliasing
    assert "frequency-aliasing" not in client.get("/filters?sample=camera&f=box_blur").text


def test_htmx_fragment_carries_the_frequency_view(client):
    html = client.get("/filters?sample=camera&f=sharpen", headers=HX).text
    assert html.lstrip().startswith('<div id="lab"') and 'id="frequency"' in html
    assert "/filters/frequency.png?" in html and "index=0&amp;part=0" in html


# --- Signals ----------------------------------------------------------------------------------


def test_difference_response_is_two_sine_and_high_pass(client):
    html = client.get("/signals?ir=difference", headers=HX_SOUND).text
    (sentence,) = texts(html, "response-sentence")
    assert sentence.startswith("At 0 Hz the gain is 0.00 (-∞ dB); at 8,000 Hz")
    assert "it is 2.00 (6 dB)" in sentence and "High-pass" in sentence
    (detail,) = texts(html, "response-detail")
    # 2 sin(π/4) = √2 at a quarter of the rate.
    assert "0.00 at 0 Hz (a constant cancels), 1.41 at 4,000 Hz and 2.00 at 8,000 Hz" in detail


def test_echo_is_a_comb_with_teeth_every_rate_over_delay(client):
    html = client.get("/signals?ir=echo&delay=250&decay=0.5&repeats=1", headers=HX_SOUND).text
    (detail,) = texts(html, "response-detail")
    # 250 ms at 16 kHz = 4000 samples: teeth every 4 Hz, |1 ± 0.5| from 0.5 to 1.5.
    assert "every 4 Hz (rate / delay = 16,000 / 4,000)" in detail
    assert "between 0.50 (-6 dB) and 1.50 (3.5 dB)" in detail
    assert 'data-testid="zoom-chart"' in html
    assert "Band-stop" not in html  # a comb is not read as one of the five kinds


def test_echo_zoom_has_its_teeth_at_multiples_of_rate_over_delay(client):
    from app.labs.signals.frequency import SoundSpectra

    client.get("/signals?ir=echo&delay=250&decay=0.5&repeats=1", headers=HX_SOUND)
    (spectra,) = [v for v, _ in client.app.state.results._items.values()
                  if isinstance(v, SoundSpectra)]  # fmt: skip
    assert spectra.comb == (4.0, pytest.approx(0.5, abs=1e-3), pytest.approx(1.5))
    hz, db = spectra.zoom
    assert hz[0] == 0 and hz[-1] == 20.0  # five teeth
    teeth = np.isclose(hz % 4.0, 0) | np.isclose(hz % 4.0, 4.0)
    np.testing.assert_allclose(db[teeth], 20 * np.log10(1.5), atol=1e-9)


def test_moving_average_has_zeros_at_multiples_of_rate_over_width(client):
    html = client.get("/signals?ir=average&width=8", headers=HX_SOUND).text
    (detail,) = texts(html, "response-detail")
    assert "rate / width = 16,000 / 8 = 2,000 Hz" in detail
    assert "Low-pass" in texts(html, "response-sentence")[0]


@pytest.mark.parametrize("ir", ["echo", "reverb", "average", "difference"])
def test_theorem_error_is_measured_and_small_with_padding(client, ir):
    html = client.get(f"/signals?ir={ir}", headers=HX_SOUND).text
    (error,) = texts(html, "theorem-error")
    value = float(error.rsplit("=", 1)[1].replace("−", "-"))
    assert 0 <= value < 1e-5  # y in 32-bit floats
    (circular,) = texts(html, "circular-error")
    assert "Without the padding (N = " in circular
    assert html.count("<svg") >= 4  # the response, |X|, |Y| with |X|·|H|, and the others


def test_theorem_error_is_the_engines_on_the_lab_arrays(client):
    from app.labs.signals.frequency import SoundSpectra
    from app.labs.signals.sound import SoundResult

    html = client.get("/signals?ir=reverb&rlen=300", headers=HX_SOUND).text
    items = [value for value, _ in client.app.state.results._items.values()]
    (spectra,) = [v for v in items if isinstance(v, SoundSpectra)]
    (sound,) = [v for v in items if isinstance(v, SoundResult)]
    x = sound.audio.samples.astype(np.float64).mean(axis=0)
    y = sound.output.astype(np.float64).mean(axis=0) / sound.gain
    check = frequency.theorem_check(x, sound.ir, y, spectra.n)
    assert spectra.n >= x.size + sound.ir.size - 1 == spectra.length
    assert spectra.relative_error == check.relative_error < 1e-5
    (shown,) = texts(html, "theorem-error")
    assert shown.endswith(f"= {check.relative_error:.2g}".replace("-", "−"))
    # No padding: the reverb's 4,800-sample tail wraps onto the start. The voice ends almost
    # silent, so little wraps: the page says how loud that tail is.
    circular = frequency.theorem_check(x, sound.ir, y, x.size).relative_error
    assert spectra.circular_error == circular > 5 * check.relative_error
    assert spectra.tail == sound.ir.size - 1 and spectra.tail_share < 0.01


def test_one_frequency_in_numbers_multiplies_magnitudes_and_adds_phases(client):
    html = client.get("/signals?ir=echo", headers=HX_SOUND).text
    probe = re.search(r'data-testid="theorem-probe">(.*?)</details>', html, re.S).group(1)
    found = re.findall(r'<th scope="row">(.*?)</th><td[^>]*>(.*?)</td><td>(.*?)°</td>', probe)
    rows = {name: (float(m.replace("−", "-")), float(p.replace("−", "-"))) for name, m, p in found}
    assert rows["X[k]·H[k]"] == rows["Y[k]"]  # equal to the six digits shown
    (x, x_phase), (h, h_phase), (xh, xh_phase) = rows["X[k]"], rows["H[k]"], rows["X[k]·H[k]"]
    assert xh == pytest.approx(x * h, rel=1e-5)
    assert (x_phase + h_phase - xh_phase + 180) % 360 - 180 == pytest.approx(0, abs=0.02)


def test_a_loud_ending_shows_the_circular_wrap(client):
    # A tone that lasts to the end: an echo of its last 0.1 s wraps onto the start.
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000 + 0.3)
    response = client.post(
        "/signals/upload-wav",
        files={"sound": ("tone.wav", wav.encode_wav(tone, 8000), "audio/wav")},
        data={"ir": "echo", "delay": "100", "decay": "0.5", "repeats": "1"},
        follow_redirects=False,
    )
    html = client.get(response.headers["location"]).text
    (error,) = texts(html, "theorem-error")
    assert float(error.rsplit("=", 1)[1].replace("−", "-")) < 1e-5
    (circular,) = texts(html, "circular-error")
    assert "Without the padding (N = 8,000)" in circular and "the last 800 samples" in circular
    value = float(circular.rsplit("gives", 1)[1].strip(" .").replace("−", "-"))
    assert value > 0.01  # against about 1e-7 with the padding


def test_portuguese_sound_numbers(client):
    html = portuguese(client).get("/signals?ir=difference", headers=HX_SOUND).text
    (sentence,) = texts(html, "response-sentence")
    assert sentence.startswith("Em 0 Hz o ganho é 0,00 (-∞ dB); em 8.000 Hz")
    assert "Passa-altas" in sentence
    assert "frequência (Hz)" in html


def test_a_bad_sound_setting_keeps_its_message_and_no_frequency_view(client):
    response = client.get("/signals?ir=average&width=0", headers=HX_SOUND)
    assert response.status_code in (400, 422)
    assert "response-sentence" not in response.text
