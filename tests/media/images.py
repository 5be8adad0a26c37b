"""Test images made with Pillow (and by hand where a real one would take gigabytes)."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image, ImageCms

CAMERA_SERIAL = "SN-4711-SECRET-CAMERA"
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
BODY_SERIAL_TAG = 0xA431
ORIENTATION_TAG = 0x0112


@cache
def srgb_icc() -> bytes:
    # Cached: a generated profile carries its creation time, so two calls can differ.
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def phone_jpeg(*, size: tuple[int, int] = (400, 200), orientation: int = 6) -> bytes:
    """A phone photo: GPS position, camera serial, orientation tag, colour profile, XMP.

    Stored landscape with a red left half and a blue right half; orientation 6 means
    the camera was held upright, so it must be shown portrait, red on top."""
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15"
    exif.get_ifd(EXIF_IFD)[BODY_SERIAL_TAG] = CAMERA_SERIAL
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 22.0, 31.0), 3: "E", 4: (4.0, 53.0, 40.0)})
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>52,22.5N</exif:GPSLatitude>{CAMERA_SERIAL}</x:xmpmeta>'
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes(), icc_profile=srgb_icc(), xmp=xmp.encode(), comment=CAMERA_SERIAL, quality=90)
    return buffer.getvalue()


def plain(format: str, *, size: tuple[int, int] = (64, 48), mode: str = "RGB", color=(10, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=format)
    return buffer.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (60, 40), color) for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width`×`height` but holds only a few bytes: decoding it would
    need gigabytes, reading its header needs nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    """A JPEG whose header is fine and whose picture data stops early."""
    full = plain("JPEG", size=(640, 480))
    return full[: len(full) // 3]
