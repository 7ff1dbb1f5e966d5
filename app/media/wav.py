"""WAV files in and out: decode uploads (checked, with messages a student can act on) and write
16-bit PCM for the browser's <audio> element.

Read: integer PCM at 8, 16, 24 or 32 bits through the standard library's `wave` module, and the
two formats `wave` refuses, 32/64-bit IEEE float (format tag 3) and WAVE_FORMAT_EXTENSIBLE
(0xFFFE, whose sub-format is PCM or float), by walking the RIFF chunks here. Mono or stereo, any
common sample rate, up to a duration limit.
"""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass

import numpy as np

from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import LocalNumber

FORMAT_PCM = 0x0001
FORMAT_FLOAT = 0x0003
FORMAT_EXTENSIBLE = 0xFFFE
# Names of other format tags, so the message says what the file is.
ENCODING_NAMES = {
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "µ-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
    0x00FF: "AAC",
    0x0161: "Windows Media Audio",
    0x1610: "AAC (HE)",
    0xF1AC: "FLAC",
}
MIN_RATE, MAX_RATE = 4_000, 192_000
MAX_CHANNELS = 2
# The placeholder size streaming writers leave in the header: "up to the end of the file".
UNKNOWN_SIZE = 0xFFFFFFFF


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # (C, L) float32, about -1..1
    rate: int  # samples per second
    encoding: str  # e.g. "16-bit PCM", "32-bit float"

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    @property
    def length(self) -> int:
        return self.samples.shape[1]

    @property
    def seconds(self) -> float:
        return self.length / self.rate

    @property
    def nbytes(self) -> int:
        return self.samples.nbytes


def _not_wav() -> UserError:
    return UserError(
        N_("This file is not a WAV file. Upload a .wav sound (RIFF/WAVE)."), status=415
    )


def _damaged() -> UserError:
    return UserError(
        N_("The WAV file is damaged or cut short, so its sound cannot be read."), status=422
    )


@dataclass(frozen=True)
class _Format:
    tag: int  # FORMAT_PCM or FORMAT_FLOAT after resolving WAVE_FORMAT_EXTENSIBLE
    channels: int
    rate: int
    block_align: int
    bits: int
    extensible: bool  # WAVE_FORMAT_EXTENSIBLE, which `wave` cannot open
    data: memoryview  # the data chunk's bytes


def _walk_chunks(data: bytes) -> _Format:
    """Find the fmt and data chunks of a RIFF/WAVE file and check what they say."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        if data[:4] == b"RIFX":
            raise UserError(
                N_("This WAV file is big-endian (RIFX), an encoding this lab cannot read."),
                status=415,
            )
        raise _not_wav()
    view = memoryview(data)
    offset, fmt, samples = 12, None, None
    while offset + 8 <= len(data):
        name = bytes(view[offset : offset + 4])
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body_start = offset + 8
        if name == b"data":
            end = body_start + size
            if size == UNKNOWN_SIZE:
                end = len(data)
            elif end > len(data):
                raise _damaged()  # the header promises more sound than the file holds
            samples = view[body_start:end]
            if fmt is not None:
                break
        elif name == b"fmt ":
            if size < 16 or body_start + size > len(data):
                raise _damaged()
            fmt = bytes(view[body_start : body_start + size])
        offset = body_start + size + (size & 1)  # chunks are padded to an even size
    if fmt is None or samples is None:
        raise _damaged()
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    extensible = tag == FORMAT_EXTENSIBLE
    if extensible:
        if len(fmt) < 40:
            raise _damaged()
        # cbSize, valid bits, channel mask, then the sub-format GUID, whose first two bytes are
        # the real format tag.
        (tag,) = struct.unpack_from("<H", fmt, 24)
    if tag not in (FORMAT_PCM, FORMAT_FLOAT):
        name = ENCODING_NAMES.get(tag, f"format 0x{tag:04X}")
        raise UserError(
            N_(
                "This WAV file is encoded as %(encoding)s, which this lab cannot read. Save it "
                "as PCM (8, 16, 24 or 32-bit) or 32-bit float WAV."
            ),
            status=415,
            encoding=name,
        )
    supported = (8, 16, 24, 32) if tag == FORMAT_PCM else (32, 64)
    if bits not in supported:
        kind = "PCM" if tag == FORMAT_PCM else "float"
        raise UserError(
            N_(
                "This WAV file is encoded as %(encoding)s, which this lab cannot read. Save it "
                "as PCM (8, 16, 24 or 32-bit) or 32-bit float WAV."
            ),
            status=415,
            encoding=f"{bits}-bit {kind}",
        )
    if channels < 1 or block_align != channels * bits // 8:
        raise _damaged()
    return _Format(tag, channels, rate, block_align, bits, extensible, samples)


def _to_float(raw: bytes | memoryview, tag: int, bits: int, channels: int) -> np.ndarray:
    """Interleaved little-endian samples -> (C, L) float32 in -1..1."""
    width = bits // 8
    frames = len(raw) // (width * channels)
    raw = raw[: frames * width * channels]  # a partial last frame is dropped
    if tag == FORMAT_FLOAT:
        values = np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8").astype(np.float32)
    elif bits == 8:
        values = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif bits == 24:
        # Three bytes per sample: put them in the top of an int32, then shift back with sign.
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        wide = np.zeros((triples.shape[0], 4), dtype=np.uint8)
        wide[:, 1:] = triples
        values = (wide.view("<i4").ravel() >> 8).astype(np.float32) / 2.0**23
    else:
        dtype = "<i2" if bits == 16 else "<i4"
        values = (np.frombuffer(raw, dtype=dtype).astype(np.float64) / 2.0 ** (bits - 1)).astype(
            np.float32
        )
    return values.reshape(frames, channels).T.copy()  # (L, C) interleaved -> (C, L)


def decode_wav(data: bytes, max_seconds: float, max_bytes: int) -> Audio:
    """Bytes of a .wav file -> Audio. Raises UserError (4xx) for anything unusable."""
    if not data:
        raise UserError(N_("The file is empty. Choose a WAV file to upload."))
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    fmt = _walk_chunks(data)
    if fmt.channels > MAX_CHANNELS:
        raise UserError(
            N_("This WAV file has %(count)s channels; this lab takes mono or stereo sound."),
            status=415,
            count=fmt.channels,
        )
    if not MIN_RATE <= fmt.rate <= MAX_RATE:
        raise UserError(
            N_(
                "This WAV file's sample rate is %(rate)s Hz; this lab takes %(low)s to %(high)s Hz."
            ),
            status=415,
            rate=fmt.rate,
            low=MIN_RATE,
            high=MAX_RATE,
        )
    frames = len(fmt.data) // fmt.block_align
    if frames == 0:
        raise UserError(N_("This WAV file holds no sound: it has zero samples."), status=422)
    if frames > max_seconds * fmt.rate:
        raise UserError(
            N_(
                "This sound lasts %(seconds)s s; the limit is %(limit)s s. Cut it shorter and "
                "upload it again."
            ),
            status=413,
            seconds=LocalNumber(frames / fmt.rate, "fixed", decimals=1),
            limit=LocalNumber(max_seconds, "short", digits=6),
        )
    if fmt.tag == FORMAT_PCM and not fmt.extensible:
        raw = _read_with_wave(data, frames)
    else:
        raw = fmt.data  # float and WAVE_FORMAT_EXTENSIBLE: `wave` refuses them
    samples = _to_float(raw, fmt.tag, fmt.bits, fmt.channels)
    if not np.isfinite(samples).all():
        raise UserError(
            N_("This WAV file holds values that are not numbers (NaN or infinity)."), status=422
        )
    top = float(np.abs(samples).max())
    if top > 1.0:  # float files may go past full scale: bring them back so nothing clips
        samples /= top
    kind = "float" if fmt.tag == FORMAT_FLOAT else "PCM"
    return Audio(np.ascontiguousarray(samples), fmt.rate, f"{fmt.bits}-bit {kind}")


def _read_with_wave(data: bytes, frames: int) -> bytes:
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            return reader.readframes(frames)
    except (wave.Error, EOFError, struct.error) as exc:
        raise _damaged() from exc


def too_large(limit: int) -> UserError:
    return UserError(
        N_("The file is larger than the %(limit)s MB limit for sound files. Choose a shorter one."),
        status=413,
        limit=LocalNumber(limit / (1024 * 1024), "short", digits=2),
    )


def encode_wav(samples: np.ndarray, rate: int) -> bytes:
    """(C, L) or (L,) floats in -1..1 -> a 16-bit PCM WAV file (values beyond ±1 are clipped)."""
    samples = np.atleast_2d(np.asarray(samples, dtype=np.float64))
    ints = np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2")  # as read back
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(samples.shape[0])
        writer.setsampwidth(2)
        writer.setframerate(int(rate))
        writer.writeframes(ints.T.tobytes())  # (C, L) -> interleaved frames
    return buffer.getvalue()
