import io

import numpy as np
import pytest
from PIL import Image

from app.media.cache import LRUBytesCache
from app.media.images import decode_image
from app.web.errors import UserError


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def test_rgb_png_round_trips_exactly():
    pixels = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    decoded = decode_image(encode(Image.fromarray(pixels), "PNG"), max_pixels=10**6)
    np.testing.assert_array_equal(decoded.pixels, pixels.astype(np.float32))
    assert decoded.original_size == (30, 20)
    assert decoded.scale == 1.0


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
def test_each_allowed_format_decodes(fmt):
    image = Image.new("RGB", (16, 12), (200, 100, 50))
    decoded = decode_image(encode(image, fmt), max_pixels=10**6)
    assert decoded.pixels.shape == (12, 16, 3)
    # Lossy formats and palettes move colours a little, not a lot.
    np.testing.assert_allclose(decoded.pixels[6, 8], [200, 100, 50], atol=12)


def test_sixteen_bit_grey_is_rescaled_not_clipped():
    values = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    decoded = decode_image(encode(image, "PNG"), max_pixels=10**6)
    np.testing.assert_allclose(decoded.pixels[:, :, 0], values / 65535 * 255, atol=0.01)


def test_cmyk_jpeg_is_converted_to_rgb():
    image = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    decoded = decode_image(encode(image, "JPEG"), max_pixels=10**6)
    assert decoded.source_mode == "CMYK"
    red, green, blue = decoded.pixels[4, 4]
    assert red > 200 and green < 60 and blue < 60


def test_palette_with_transparency_is_composited_on_white():
    image = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0, 255))
    decoded = decode_image(encode(image.convert("P"), "PNG"), max_pixels=10**6)
    np.testing.assert_array_equal(decoded.pixels[3, 3], [255, 255, 255])


def test_alpha_is_composited_on_white():
    image = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    image.putpixel((1, 0), (0, 0, 255, 128))
    decoded = decode_image(encode(image, "PNG"), max_pixels=10**6)
    np.testing.assert_array_equal(decoded.pixels[0, 0], [255, 255, 255])
    np.testing.assert_allclose(decoded.pixels[0, 1], [127, 127, 255], atol=1)


def test_gif_uses_first_frame():
    frames = [Image.new("RGB", (8, 8), colour) for colour in [(255, 0, 0), (0, 0, 255)]]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    decoded = decode_image(buffer.getvalue(), max_pixels=10**6)
    assert decoded.pixels[0, 0, 0] > 200 and decoded.pixels[0, 0, 2] < 50


def test_large_image_is_scaled_to_working_size():
    decoded = decode_image(encode(Image.new("RGB", (2000, 1000)), "PNG"), max_pixels=10**7)
    assert decoded.pixels.shape == (256, 512, 3)
    assert decoded.scale == pytest.approx(512 / 2000)


def test_exif_rotation_is_applied():
    image = Image.new("RGB", (20, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    decoded = decode_image(encode(image, "JPEG", exif=exif), max_pixels=10**6)
    assert decoded.pixels.shape[:2] == (20, 10)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", 400),
        (b"hello, this is text", 415),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", 415),
    ],
)
def test_unusable_bytes_raise_user_errors(data, status):
    with pytest.raises(UserError) as caught:
        decode_image(data, max_pixels=10**6)
    assert caught.value.status == status


def test_truncated_png_is_422():
    data = encode(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG")
    with pytest.raises(UserError) as caught:
        decode_image(data[: len(data) // 2], max_pixels=10**6)
    assert caught.value.status == 422


def test_decompression_bomb_is_refused_before_decoding():
    data = encode(Image.new("L", (3000, 3000)), "PNG")  # 9 MP of zeros compresses to a few KB
    assert len(data) < 100_000
    with pytest.raises(UserError) as caught:
        decode_image(data, max_pixels=1_000_000)
    assert caught.value.status == 413
    assert "too many pixels" in caught.value.message


def test_lru_cache_is_bounded_in_bytes():
    cache = LRUBytesCache(max_bytes=100)
    for key in range(10):
        cache.put(str(key), key, 30)
    assert cache.total_bytes <= 100
    assert len(cache) == 3
    assert cache.get("0") is None and cache.get("9") == 9
    cache.get("7")
    cache.put("10", 10, 30)
    assert cache.get("7") == 7 and cache.get("8") is None  # 8 was least recently used
    cache.put("huge", 0, 1000)
    assert cache.get("huge") is None
