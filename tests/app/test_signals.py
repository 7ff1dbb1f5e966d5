"""The Signals lab over HTTP: pages and parts, sounds, pictures, animations, uploads, bad input;
and the WAV and GIF codecs it relies on."""

import io
import re
import struct
import wave

import numpy as np
import pytest
from PIL import Image

from app.media import wav
from app.media.gif import decode_gif, encode_gif
from app.web.errors import UserError
from tests.app.conftest import HX

HX_SOUND = {**HX, "HX-Target": "sound", "X-Error-Target": "#controls-error"}
HX_SLIDE = {**HX, "HX-Target": "slide", "X-Error-Target": "#slide-error"}
HX_VIDEO = {**HX, "HX-Target": "video", "X-Error-Target": "#video-error"}
HX_WAV = {**HX, "HX-Target": "sound", "X-Error-Target": "#wav-error"}
HX_GIF = {**HX, "HX-Target": "video", "X-Error-Target": "#gif-error"}


# --------------------------------------------------------------------------------------------
# WAV files built by hand, byte by byte, for every encoding
# --------------------------------------------------------------------------------------------

GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def riff(fmt: bytes, data: bytes, declared: int | None = None, extra: bytes = b"") -> bytes:
    size = len(data) if declared is None else declared
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(tag: int, channels: int, rate: int, bits: int, extensible: bool = False) -> bytes:
    align = channels * bits // 8
    head = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * align,
                       align, bits)  # fmt: skip
    if not extensible:
        return head
    return (
        head
        + struct.pack("<HHI", 22, bits, 3 if channels == 2 else 4)
        + struct.pack("<H", tag)
        + GUID_TAIL
    )


# (name, format tag, bits, numpy dtype of the samples, full scale) for every supported encoding
ENCODINGS = [
    ("8-bit PCM", 1, 8, np.uint8, 128.0),
    ("16-bit PCM", 1, 16, np.int16, 2.0**15),
    ("24-bit PCM", 1, 24, None, 2.0**23),
    ("32-bit PCM", 1, 32, np.int32, 2.0**31),
    ("32-bit float", 3, 32, np.float32, 1.0),
    ("64-bit float", 3, 64, np.float64, 1.0),
]


def encode(values: np.ndarray, bits: int, dtype) -> bytes:
    """(L, C) integer or float sample values -> interleaved little-endian bytes."""
    if bits == 24:
        ints = values.astype(np.int64).ravel() & 0xFFFFFF
        return b"".join(struct.pack("<I", v)[:3] for v in ints)
    return values.astype(np.dtype(dtype).newbyteorder("<")).tobytes()


def sample_values(bits: int, tag: int, length: int, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if tag == 3:
        return rng.uniform(-0.9, 0.9, (length, channels))
    if bits == 8:
        return rng.integers(0, 256, (length, channels))
    top = 2 ** (bits - 1)
    return rng.integers(-top, top, (length, channels))


@pytest.mark.parametrize("name,tag,bits,dtype,scale", ENCODINGS)
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("extensible", [False, True])
def test_wav_round_trip_for_every_encoding(name, tag, bits, dtype, scale, channels, extensible):
    values = sample_values(bits, tag, 300, channels)
    data = riff(fmt_chunk(tag, channels, 22_050, bits, extensible), encode(values, bits, dtype))
    decoded = wav.decode_wav(data, max_seconds=10, max_bytes=1 << 20)
    expected = (values - 128.0) / 128.0 if bits == 8 else values / scale
    assert decoded.samples.shape == (channels, 300)
    assert decoded.rate == 22_050 and decoded.encoding == name
    np.testing.assert_allclose(decoded.samples, expected.T, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("rate", [8_000, 11_025, 44_100, 48_000, 96_000])
def test_wav_written_by_us_reads_back_at_any_common_rate(rate):
    x = np.stack([np.linspace(-1, 1, 500), np.linspace(1, -1, 500)])
    decoded = wav.decode_wav(wav.encode_wav(x, rate), max_seconds=10, max_bytes=1 << 20)
    assert decoded.rate == rate and decoded.encoding == "16-bit PCM"
    np.testing.assert_allclose(decoded.samples, x, atol=1 / 32768)
    with wave.open(io.BytesIO(wav.encode_wav(x, rate))) as reader:  # the standard library agrees
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getnframes()) == (2, 2, 500)


def test_wav_chunks_before_data_and_odd_padding_are_skipped():
    values = sample_values(16, 1, 50, 1)
    extra = b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # an odd-sized chunk plus its pad byte
    data = riff(fmt_chunk(1, 1, 16_000, 16), encode(values, 16, np.int16), extra=extra)
    decoded = wav.decode_wav(data, max_seconds=10, max_bytes=1 << 20)
    np.testing.assert_allclose(decoded.samples[0], values[:, 0] / 2**15)


def test_float_wav_past_full_scale_is_brought_back():
    values = np.array([[0.5], [-3.0], [1.5]])
    data = riff(fmt_chunk(3, 1, 16_000, 32), encode(values, 32, np.float32))
    decoded = wav.decode_wav(data, max_seconds=10, max_bytes=1 << 20)
    np.testing.assert_allclose(decoded.samples[0], [0.5 / 3, -1.0, 0.5])


def pcm16(length: int = 100, channels: int = 1, rate: int = 16_000) -> bytes:
    return riff(fmt_chunk(1, channels, rate, 16), bytes(2 * channels * length))


HOSTILE_WAVS = [
    (b"", 400, "The file is empty"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), 415, "not a WAV file"),
    (b"RIFF\x00\x00\x00\x00AVI LIST", 415, "not a WAV file"),
    (b"RIFF", 415, "not a WAV file"),
    (b"RIFF\x24\x00\x00\x00WAVE", 422, "damaged or cut short"),  # no chunks at all
    (pcm16()[:60], 422, "damaged or cut short"),  # data chunk cut short
    (riff(fmt_chunk(1, 1, 16_000, 16), bytes(200), declared=4000), 422, "damaged or cut short"),
    (riff(fmt_chunk(1, 1, 16_000, 16)[:10], bytes(10)), 422, "damaged or cut short"),
    (riff(struct.pack("<HHIIHH", 1, 1, 16_000, 32_000, 4, 16), bytes(8)), 422, "damaged"),
    (pcm16(length=0), 422, "zero samples"),
    (pcm16(length=16_000 * 11), 413, "the limit is 10 s"),
    (riff(fmt_chunk(7, 1, 8000, 8), bytes(100)), 415, "encoded as µ-law"),
    (riff(fmt_chunk(2, 1, 8000, 4), bytes(100)), 415, "encoded as Microsoft ADPCM"),
    (riff(fmt_chunk(0x55, 1, 8000, 16), bytes(100)), 415, "encoded as MP3"),
    (riff(fmt_chunk(1, 1, 8000, 12), bytes(100)), 415, "encoded as 12-bit PCM"),
    (riff(fmt_chunk(3, 1, 8000, 16), bytes(100)), 415, "encoded as 16-bit float"),
    (riff(fmt_chunk(0x1234, 1, 8000, 16, extensible=True), bytes(100)), 415, "format 0x1234"),
    (pcm16(channels=6), 415, "has 6 channels"),
    (pcm16(rate=1000), 415, "sample rate is 1000 Hz"),
    (b"RIFX" + bytes(40), 415, "big-endian"),
    (riff(fmt_chunk(3, 1, 8000, 32), np.array([np.nan], "<f4").tobytes()), 422, "not numbers"),
]


@pytest.mark.parametrize("data,status,message", HOSTILE_WAVS)
def test_hostile_wavs_get_a_clear_4xx(data, status, message):
    with pytest.raises(UserError) as caught:
        wav.decode_wav(data, max_seconds=10, max_bytes=1 << 22)
    error = caught.value
    assert error.status == status
    assert message in error.translated(lambda s: s)


def test_wav_over_the_size_limit():
    with pytest.raises(UserError) as caught:
        wav.decode_wav(pcm16(length=1000), max_seconds=10, max_bytes=1000)
    assert caught.value.status == 413


# --------------------------------------------------------------------------------------------
# GIFs
# --------------------------------------------------------------------------------------------


def gif_bytes(frames: int = 6, size: tuple[int, int] = (40, 30), colour: bool = False) -> bytes:
    images = []
    for t in range(frames):
        pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        pixels[8:16, 4 + 3 * t : 12 + 3 * t] = (255, 200, 0) if colour else 255
        pixels[-1, -1] = 2 * t % 256  # no two frames alike: Pillow would merge equal ones
        images.append(Image.fromarray(pixels))
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=80,
                   loop=0)  # fmt: skip
    return buffer.getvalue()


def test_gif_decodes_as_frames_at_working_size():
    clip = decode_gif(gif_bytes(6, (256, 128)), max_frames=100, max_pixels=10**6, max_bytes=10**7)
    assert clip.frames.shape == (6, 64, 128, 3)  # scaled to 128 on the long side
    assert clip.frame_ms == 80 and clip.original_size == (256, 128)


def test_gif_round_trip_keeps_frames():
    frames = np.zeros((4, 10, 12), dtype=np.uint8)
    for t in range(4):
        frames[t, :, t * 3] = 255
    clip = decode_gif(encode_gif(frames, 50), max_frames=10, max_pixels=1000, max_bytes=10**6)
    np.testing.assert_array_equal(clip.frames[..., 0], frames)


@pytest.mark.parametrize(
    "data,status,message",
    [
        (b"GIF89a" + bytes(10), 422, "damaged or cut short"),
        (b"\x89PNG\r\n\x1a\n" + bytes(50), 415, "not a GIF"),
        (b"", 400, "empty"),
    ],
)
def test_hostile_gifs(data, status, message):
    with pytest.raises(UserError) as caught:
        decode_gif(data, max_frames=10, max_pixels=10**6, max_bytes=10**6)
    assert caught.value.status == status
    assert message in caught.value.translated(lambda s: s)


# --------------------------------------------------------------------------------------------
# The page and its parts
# --------------------------------------------------------------------------------------------


def test_full_page_has_all_three_parts(client):
    response = client.get("/signals")
    assert response.status_code == 200 and "<html" in response.text
    for part in ('id="sound"', 'id="slide"', 'id="video"', 'id="controls"', 'id="slide-form"'):
        assert part in response.text
    assert response.text.count("<audio controls") == 2
    assert 'src="/signals/audio.wav?clip=voice_en&amp;ir=echo' in response.text


@pytest.mark.parametrize(
    "headers,root", [(HX_SOUND, "sound"), (HX_SLIDE, "slide"), (HX_VIDEO, "video")]
)
def test_each_part_comes_alone_for_htmx(client, headers, root):
    response = client.get("/signals?ir=average&width=4&xs=1+2&pos=1&k3=sedge", headers=headers)
    assert response.status_code == 200
    assert re.match(rf'\s*(\{{#.*#\}}\s*)?<section id="{root}"', response.text)
    assert response.text.count("<section id=") == 1
    push = response.headers["HX-Push-Url"]
    # The whole lab's state, whichever part was asked for.
    for param in ("ir=average", "width=4", "xs=1+2", "pos=1", "k3=sedge"):
        assert param in push


def test_htmx_without_a_part_gets_the_whole_lab(client):
    response = client.get("/signals", headers=HX)
    assert response.text.lstrip().startswith("{#") or '<div id="lab"' in response.text[:400]
    assert response.text.count("<section id=") == 3


def test_echo_numbers_on_the_page(client):
    html = client.get("/signals?clip=clap&ir=echo&delay=100&decay=0.5&repeats=2").text
    # 16 kHz: 100 ms is 1,600 samples; the clap has 25,600 samples.
    assert "y[n] = 1·x[n] + 0.5·x[n − 1,600] + 0.25·x[n − 3,200]" in html
    assert "L = 25,600 samples in, M = 3,201 in h" in html
    assert "L + M − 1 = 28,800 samples" in html
    assert "3 taps × 25,600 input samples = 76,800 multiply-adds" in html


def test_reverb_is_computed_by_fft(client):
    html = client.get("/signals?clip=clap&ir=reverb&rlen=1000&mix=0.5").text
    assert "Computed with the FFT" in html
    assert "16,000 samples (1000 ms) of random reflections" in html


def read_wav(response) -> tuple[tuple[int, int, int], np.ndarray]:
    """(rate, bytes per sample, channels) and the (L, C) int16 samples of a WAV response."""
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as reader:
        frames = reader.readframes(reader.getnframes())
        params = (reader.getframerate(), reader.getsampwidth(), reader.getnchannels())
    return params, np.frombuffer(frames, dtype="<i2").reshape(-1, params[2])


def test_audio_input_and_output_are_16_bit_wavs_of_the_right_length(client):
    query = "clip=clap&ir=echo&delay=100&decay=0.5&repeats=2"
    params, before = read_wav(client.get(f"/signals/audio.wav?{query}&which=input"))
    assert params == (16000, 2, 1)
    assert before.shape[0] == 25_600
    _, after = read_wav(client.get(f"/signals/audio.wav?{query}&which=output"))
    assert after.shape[0] == 25_600 + 3_200
    # The echo: y = g·(x + 0.5·x delayed by 1,600 + 0.25·x delayed by 3,200), g the reported gain.
    x = before[:, 0] / 32768.0
    expected = np.zeros(28_800)
    for k, weight in enumerate((1.0, 0.5, 0.25)):
        expected[k * 1600 : k * 1600 + 25_600] += weight * x
    gain = min(1.0, 0.99 / np.abs(expected).max())
    np.testing.assert_allclose(after[:, 0] / 32768.0, gain * expected, atol=3e-4)
    assert np.abs(after).max() <= 32768 * 0.99 + 1  # scaled so it does not clip


def test_spectrogram_png(client):
    response = client.get("/signals/spectrogram.png?clip=melody&ir=average&which=input")
    assert response.headers["content-type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.content)))
    assert image.shape[0] == 257  # a 512-sample window at 16 kHz: 0 to 8 kHz in 257 rows
    # The melody starts on C4 (262 Hz, 8 rows from the bottom at 31.25 Hz per row): loud there.
    low = image[-12:-4].mean()
    assert low > image[:100].mean() + 60


def test_two_d_link_opens_the_filters_lab_with_the_kernel(client):
    html = client.get("/signals?ir=echo&delay=200&decay=0.5&repeats=2").text
    url = re.search(r'href="(/filters\?[^"]+)" data-testid="twod-link"', html).group(1)
    url = url.replace("&amp;", "&")
    assert "f=custom" in url and "op=convolve" in url
    filters = client.get(url)
    assert filters.status_code == 200
    # 200 ms at 100 ms a pixel: taps 2 pixels apart, weights 1, 0.5, 0.25 scaled to sum to 1.
    editor = re.search(r'<textarea id="kernel"[^>]*>([^<]*)<', filters.text).group(1)
    assert editor == "0.5714 0 0.2857 0 0.1429"


def test_slide_step_buttons_move_the_position(client):
    query = "xs=1+0+0+2&hs=1+0.5+0.25&pos=1"
    html = client.get(f"/signals?{query}&step=1", headers=HX_SLIDE)
    assert "pos=2" in html.headers["HX-Push-Url"]
    assert 'data-testid="y-now">0.25<' in html.text  # y[2] = 0.25·1 + 0.5·0 + 1·0
    assert "y[2] = 0.25·1 + 0.5·0 + 1·0 = <strong>0.25</strong>" in html.text
    assert "1·1 + 0.5·0 + 0.25·0 = 1" in html.text  # the unflipped kernel, for comparison
    back = client.get(f"/signals?{query}&step=-1", headers=HX_SLIDE)
    assert "pos=0" in back.headers["HX-Push-Url"]
    plain = client.get(f"/signals?{query}&step=1", follow_redirects=False)
    assert plain.status_code == 303 and "pos=2" in plain.headers["location"]
    assert "step" not in plain.headers["location"]


def test_slide_position_is_clamped_to_the_output(client):
    html = client.get("/signals?xs=1+2&hs=1+1&pos=99", headers=HX_SLIDE).text
    assert 'data-testid="y-now">2<' in html  # the last of [1, 3, 2]


def test_video_part_shows_shapes_per_axis(client):
    html = client.get("/signals?k3=stedge&st=1&sh=2&sw=2&pt=1&ph=1&pw=1", headers=HX_VIDEO).text
    formulas = re.findall(r'data-testid="axis-formula">(.*?)</p>', html)
    assert len(formulas) == 3
    assert "⌊(24 + 2·1 − 3) / 1⌋ + 1 = <strong>24</strong>" in formulas[0]
    assert "⌊(64 + 2·1 − 3) / 2⌋ + 1 = <strong>32</strong>" in formulas[1]


def gif_frames(response) -> list[np.ndarray]:
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    image = Image.open(io.BytesIO(response.content))
    frames = []
    for index in range(image.n_frames):
        image.seek(index)
        frames.append(np.asarray(image.convert("RGB")))
    return frames


def test_video_gifs_and_frames(client):
    query = "video=square&k3=tdiff"
    inputs = gif_frames(client.get(f"/signals/video.gif?{query}&view=input"))
    assert len(inputs) == 12 and inputs[0].shape == (48, 48, 3)
    outputs = gif_frames(client.get(f"/signals/video.gif?{query}&view=output"))
    assert outputs[0].shape == (48, 48, 3)
    frame = np.asarray(
        Image.open(io.BytesIO(client.get(f"/signals/frame.png?{query}&index=0").content))
    )
    assert frame.shape == (48, 48, 3)
    # Where nothing changed: zero, the scale's near-white. The arrived edge: orange.
    assert tuple(frame[2, 2]) == (247, 247, 247)
    moved = frame[24, 14]  # the square (columns 2-13 at frame 0) arrives at columns 14-15
    assert moved[0] > moved[2]
    missing = client.get(f"/signals/frame.png?{query}&index=11")
    assert missing.status_code == 404 and "no frame 11" in missing.text


def test_wav_upload_then_page_and_audio(client):
    stereo = np.stack([np.sin(np.arange(8000) / 10), np.cos(np.arange(8000) / 7)]) * 0.5
    response = client.post(
        "/signals/upload-wav",
        files={"sound": ("tone.wav", wav.encode_wav(stereo, 8000), "audio/wav")},
        data={"clip": "voice_en", "ir": "average", "width": "3", "k3": "sedge"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert "clip=wav%3A" in location and "ir=average" in location and "k3=sedge" in location
    page = client.get(location)
    assert page.status_code == 200 and "Your sound: tone.wav" in page.text
    assert "8,000 samples per second, stereo, 8,000 samples" in page.text
    params, out = read_wav(client.get(location.replace("/signals?", "/signals/audio.wav?")))
    assert params[2] == 2 and out.shape == (8002, 2)


def test_wav_upload_htmx_returns_the_sound_part(client):
    response = client.post(
        "/signals/upload-wav",
        files={"sound": ("a.wav", wav.encode_wav(np.zeros(3000) + 0.1, 16000), "audio/wav")},
        data={"ir": "difference"},
        headers=HX_WAV,
    )
    assert response.status_code == 200
    assert '<section id="sound"' in response.text and "Your sound: a.wav" in response.text
    assert "clip=wav%3A" in response.headers["HX-Push-Url"]


@pytest.mark.parametrize(
    "data,status,message",
    [
        (b"not a wav at all", 415, "not a WAV file"),
        (riff(fmt_chunk(7, 1, 8000, 8), bytes(100)), 415, "encoded as µ-law"),
        (pcm16(length=0), 422, "zero samples"),
        (pcm16()[:60], 422, "damaged or cut short"),
        (pcm16(length=16_000 * 11), 413, "the limit is 10 s"),
    ],
)
def test_bad_wav_uploads_show_in_place(client, data, status, message):
    response = client.post(
        "/signals/upload-wav", files={"sound": ("x.wav", data, "audio/wav")}, headers=HX_WAV
    )
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#wav-error"
    assert message in response.text


def test_upload_over_the_byte_limit_is_refused(client):
    big = bytes(11 * 1024 * 1024)
    response = client.post(
        "/signals/upload-wav", files={"sound": ("big.wav", big, "audio/wav")}, headers=HX_WAV
    )
    assert response.status_code == 413 and "MB limit for sound files" in response.text


def test_upload_without_a_file(client):
    response = client.post("/signals/upload-wav", data={"ir": "echo"}, headers=HX_WAV)
    assert response.status_code == 400 and "No file was attached" in response.text


def test_gif_upload_shows_the_motion_map(client):
    response = client.post(
        "/signals/upload-gif",
        files={"gif": ("move.gif", gif_bytes(6), "image/gif")},
        data={"k3": "tdiff", "ir": "reverb"},
        headers=HX_GIF,
    )
    assert response.status_code == 200
    assert '<section id="video"' in response.text and "Your clip: move.gif" in response.text
    push = response.headers["HX-Push-Url"]
    assert "video=gif%3A" in push and "ir=reverb" in push
    query = push.split("?", 1)[1]
    outputs = gif_frames(client.get(f"/signals/video.gif?{query}&view=output"))
    assert len(outputs) == 5  # 6 frames, 2 deep: 5 differences
    # The square moved 3 pixels right: the output lights up at its edges only.
    frame = np.asarray(
        Image.open(io.BytesIO(client.get(f"/signals/frame.png?{query}&index=0").content))
    )
    changed = np.any(frame != (247, 247, 247), axis=2)[:-1, :-1]  # not the frame-number pixel
    rows, cols = np.nonzero(changed)
    assert set(rows) == set(range(8, 16))
    assert set(cols) == {4, 5, 6, 12, 13, 14}


@pytest.mark.parametrize(
    "data,status,message",
    [
        (b"GIF89a-nope", 422, "damaged or cut short"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), 415, "not a GIF"),
        (gif_bytes(1), 422, "needs at least as many frames as it is deep (2 for"),
        (gif_bytes(101, (8, 8)), 413, "The GIF has 101 frames; the limit is 100"),
        (gif_bytes(2, (1100, 1000)), 413, "the limit is 1,048,576 pixels per frame"),
    ],
)
def test_bad_gif_uploads_show_in_place(client, data, status, message):
    response = client.post(
        "/signals/upload-gif", files={"gif": ("x.gif", data, "image/gif")}, headers=HX_GIF
    )
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#gif-error"
    assert message in response.text


def test_single_frame_message_names_the_kernel_depth(client):
    response = client.post(
        "/signals/upload-gif",
        files={"gif": ("still.gif", gif_bytes(1), "image/gif")},
        data={"k3": "tblur", "kt": "5"},
        headers=HX_GIF,
    )
    assert response.status_code == 422 and "(5 for the kernel chosen now)" in response.text


def test_gif_shorter_than_the_kernel_keeps_the_upload_and_says_why(client):
    response = client.post(
        "/signals/upload-gif",
        files={"gif": ("two.gif", gif_bytes(2), "image/gif")},
        data={"k3": "tblur", "kt": "4"},
        headers=HX_GIF,
    )
    assert response.status_code == 422
    assert "Your clip: two.gif" in response.text  # the part now holds the upload
    assert "The clip has 2 frame(s), but this kernel is 4 frames deep" in response.text


BAD_SETTINGS = [
    # (query, status, message, which part's error region)
    ("clip=clap&ir=echo&delay=1900", 400, "longer than the clip (1600 ms)", "controls"),
    ("ir=echo&decay=1.2&repeats=8", 400, "Use a decay below 1", "controls"),
    ("ir=reverb&rlen=0", 400, "its length must be more than 0", "controls"),
    ("ir=echo&delay=0", 400, "Echo delay (ms) must be between 1 and 2000", "controls"),
    ("ir=echo&decay=abc", 400, "Echo decay must be a finite number", "controls"),
    ("ir=fuzz", 400, "Impulse response must be one of", "controls"),
    ("clip=nope", 404, "Unknown sound clip", "controls"),
    ("clip=wav:0123456789abcdef0123", 410, "uploaded sound is no longer", "controls"),
    ("clip=wav:../../etc", 410, "uploaded sound is no longer", "controls"),
    ("xs=1+x+3", 400, "Signal x, number 2:", "slide"),
    ("xs=" + "+1" * 17, 400, "Signal x holds at most 16 numbers", "slide"),
    ("hs=1e9", 400, "not a number between -1000 and 1000", "slide"),
    ("hs=nan", 400, "Kernel h, number 1", "slide"),
    ("k3=tblur&kt=30", 400, "Blur depth (frames) must be between 1 and 16", "video"),
    ("k3=wobble", 400, "3-D kernel must be one of", "video"),
    ("st=0", 400, "Stride along time must be between 1 and 4", "video"),
    ("pw=9", 400, "Padding along width must be between 0 and 4", "video"),
    ("video=square&k3=tblur&kt=16", 422, "needs at least 16 frames", "video"),
    ("video=gif:0123456789abcdef0123", 410, "uploaded GIF is no longer", "video"),
    ("video=nope", 404, "Unknown video clip", "video"),
]
ERROR_HEADERS = {"controls": HX_SOUND, "slide": HX_SLIDE, "video": HX_VIDEO}


@pytest.mark.parametrize("query,status,message,region", BAD_SETTINGS)
def test_bad_settings_full_page_and_htmx(client, query, status, message, region):
    response = client.get(f"/signals?{query}")
    assert response.status_code == status
    assert message in response.text
    # The message sits in its own part's error region; the other parts still work.
    region_html = re.search(
        rf'id="{region}-error"[^>]*>(.*?)</div>', response.text, flags=re.S
    ).group(1)
    assert message in region_html
    if region != "video":
        assert 'data-testid="video-output"' in response.text
    if region != "controls":
        assert 'data-testid="audio-output"' in response.text
    response = client.get(f"/signals?{query}", headers=ERROR_HEADERS[region])
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == f"#{region}-error"
    assert message in response.text and "<section" not in response.text


def test_full_page_keeps_what_the_user_typed(client):
    html = client.get("/signals?ir=echo&delay=0&xs=1+x").text
    assert 'name="delay" min="1" max="2000" value="0"' in html
    assert 'name="xs" size="32" spellcheck="false" value="1 x"' in html


@pytest.mark.parametrize(
    "url,status",
    [
        ("/signals/audio.wav?which=sideways", 404),
        ("/signals/audio.wav?clip=clap&delay=1900", 400),
        ("/signals/spectrogram.png?ir=reverb&rlen=0", 400),
        ("/signals/video.gif?view=nope", 404),
        ("/signals/frame.png?index=-1", 422),
        ("/signals/frame.png?k3=tblur&kt=99", 400),
    ],
)
def test_media_endpoints_refuse_bad_input_with_4xx(client, url, status):
    assert client.get(url).status_code == status
