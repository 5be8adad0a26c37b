"""Pixels only: inspect an upload from its header, render the stored variants.

No database and no storage here, so the benchmark measures exactly this and the
service decides what to keep.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

import blurhash
import pillow_heif
from PIL import Image, ImageCms, UnidentifiedImageError

# Decided by the decoder that recognises the bytes, never by name or client content type.
# Only these decoders are even tried. The JPEG one also opens the MPO files many phones
# write (a JPEG with a second, preview picture after it). GIF is accepted so that
# animated GIFs become a still first frame.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "GIF")
pillow_heif.register_heif_opener()
# Load every plugin now: `Image.open(formats=...)` looks the names up without loading them.
Image.init()

ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Modes whose embedded ICC profile still describes the pixels after conversion to RGB(A).
_RGB_PROFILE_MODES = {"RGB", "RGBA", "RGBX", "P", "PA", "YCbCr"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "La", "RGBa"}
_SAVE_FORMAT = {"webp": "WEBP", "jpeg": "JPEG"}


class ImageRejected(Exception):
    """The upload is not an image we take: `reason` is unsupported | too_many_pixels | unreadable."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Inspection:
    format: str
    width: int  # upright, after the EXIF orientation is applied
    height: int


@dataclass(frozen=True)
class Rendered:
    width: int
    height: int
    blurhash: str
    thumbnail: bytes
    large: bytes


def _open(source: IO[bytes], max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below is stricter; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source, formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError:
        raise ImageRejected("too_many_pixels")
    except (UnidentifiedImageError, SyntaxError, ValueError, OSError):
        raise ImageRejected("unsupported")
    width, height = image.size
    # Only the header has been read: a bomb is refused before any pixel is decoded.
    if width <= 0 or height <= 0 or width * height > max_pixels:
        image.close()
        raise ImageRejected("too_many_pixels")
    return image


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not make a good picture fail
        return 1
    return value if value in _TRANSPOSE else 1


def inspect(source: IO[bytes], *, max_pixels: int) -> Inspection:
    with _open(source, max_pixels) as image:
        width, height = image.size
        if _orientation(image) in (5, 6, 7, 8):
            width, height = height, width
        return Inspection(format=image.format or "", width=width, height=height)


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_output_mode(image: Image.Image, icc: bytes | None, *, keep_alpha: bool) -> tuple[Image.Image, bytes | None]:
    mode = image.mode
    if mode == "CMYK":
        # A CMYK profile cannot describe RGB output: convert through it to sRGB instead.
        if icc:
            try:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                srgb = ImageCms.createProfile("sRGB")
                return ImageCms.profileToProfile(image, source, srgb, outputMode="RGB"), None
            except (ImageCms.PyCMSError, OSError):
                pass
        return image.convert("RGB"), None
    if mode not in _RGB_PROFILE_MODES:
        icc = None
    if mode.startswith("I") or mode == "F":
        # 16-bit and float greys: scale to 8 bits instead of clipping to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = mode in _ALPHA_MODES or (mode == "P" and "transparency" in image.info)
    if has_alpha and keep_alpha:
        return image.convert("RGBA"), icc
    if has_alpha:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat, icc
    return (image if image.mode == "RGB" else image.convert("RGB")), icc


def _encode(image: Image.Image, *, variant_format: str, quality: int, icc: bytes | None) -> bytes:
    # Resized images inherit `info` (EXIF, XMP, comments) from the source; start clean so
    # nothing but the pixels and the colour profile can reach the file.
    image.info = {}
    options: dict = {"quality": quality}
    if icc:
        options["icc_profile"] = icc
    if variant_format == "jpeg":
        options.update(optimize=True, progressive=True)
    else:
        # libwebp's effort: method 4 (Pillow's default) took 125 ms for both variants of a 12 MP
        # photo, method 2 35 ms for files 7 % larger (bench/media_process.py, I1 in the issue).
        options.update(method=2)
    buffer = io.BytesIO()
    image.save(buffer, format=_SAVE_FORMAT[variant_format], **options)
    return buffer.getvalue()


def _blurhash(thumbnail: Image.Image) -> str:
    small = thumbnail.convert("RGB")
    small.thumbnail((32, 32), Image.Resampling.BILINEAR)
    x_components, y_components = (4, 3) if small.width >= small.height else (3, 4)
    return blurhash.encode(small, x_components, y_components)


def render(
    source: IO[bytes],
    *,
    variant_format: str,
    quality: int,
    thumbnail_size: int,
    large_size: int,
    max_pixels: int,
) -> Rendered:
    """Decode once (reduced by `draft` for JPEG), then both variants from that one decode.

    Only the first frame of an animation is read. Raises ImageRejected."""
    with _open(source, max_pixels) as image:
        icc = image.info.get("icc_profile") or None
        orientation = _orientation(image)
        stored_width, stored_height = image.size
        large_box = _fit(stored_width, stored_height, large_size)
        # JPEG decodes at 1/2, 1/4 or 1/8 scale straight from the DCT: far less work than a
        # full 12 MP decode followed by a downscale. It never goes below the target size.
        image.draft(image.mode, large_box)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise ImageRejected("unreadable")
        if orientation in (5, 6, 7, 8):
            width, height = stored_height, stored_width
        else:
            width, height = stored_width, stored_height
        pixels, icc = _to_output_mode(image, icc, keep_alpha=variant_format == "webp")
        # Inside the `with`: closing the file also releases the decoded pixels.
        large = pixels.resize(large_box, Image.Resampling.LANCZOS) if pixels.size != large_box else pixels.copy()
    thumbnail = large.resize(_fit(*large.size, thumbnail_size), Image.Resampling.LANCZOS)
    # Rotating after the resize moves 1280-pixel images instead of the decoded ones.
    if orientation in _TRANSPOSE:
        large = large.transpose(_TRANSPOSE[orientation])
        thumbnail = thumbnail.transpose(_TRANSPOSE[orientation])
    return Rendered(
        width=width,
        height=height,
        blurhash=_blurhash(thumbnail),
        thumbnail=_encode(thumbnail, variant_format=variant_format, quality=quality, icc=icc),
        large=_encode(large, variant_format=variant_format, quality=quality, icc=icc),
    )
