"""The pixel pipeline on generated images: privacy, orientation, colour, formats, limits."""

import io
import time

import pytest
from PIL import Image

from media import imaging
from tests.media import images

LIMITS = {"quality": 80, "thumbnail_size": 320, "large_size": 1280, "max_pixels": 40_000_000}


def render(data: bytes, variant_format: str = "webp") -> imaging.Rendered:
    return imaging.render(io.BytesIO(data), variant_format=variant_format, **LIMITS)


def variants(rendered: imaging.Rendered) -> list[tuple[bytes, Image.Image]]:
    return [(data, Image.open(io.BytesIO(data))) for data in (rendered.thumbnail, rendered.large)]


@pytest.mark.parametrize("variant_format", ["webp", "jpeg"])
def test_gps_serial_and_every_other_metadata_are_gone_from_every_variant(variant_format):
    source = images.phone_jpeg()
    assert images.CAMERA_SERIAL.encode() in source  # the test image really carries it

    for data, variant in variants(render(source, variant_format)):
        exif = variant.getexif()
        assert images.GPS_IFD not in exif and not exif.get_ifd(images.GPS_IFD)
        assert not exif.get_ifd(images.EXIF_IFD)
        assert len(exif) == 0
        assert "exif" not in variant.info and "xmp" not in variant.info and "comment" not in variant.info
        assert images.CAMERA_SERIAL.encode() not in data
        assert b"PhoneMaker" not in data and b"GPSLatitude" not in data


@pytest.mark.parametrize("variant_format", ["webp", "jpeg"])
def test_orientation_6_is_stored_upright(variant_format):
    rendered = render(images.phone_jpeg(size=(400, 200), orientation=6), variant_format)

    assert (rendered.width, rendered.height) == (200, 400)
    for _data, variant in variants(rendered):
        width, height = variant.size
        assert height == 2 * width
        top = variant.convert("RGB").getpixel((width // 2, height // 8))
        bottom = variant.convert("RGB").getpixel((width // 2, height - height // 8))
        assert top[0] > 200 and top[2] < 60  # red was the left half, the camera's top
        assert bottom[2] > 200 and bottom[0] < 60
        assert variant.getexif().get(images.ORIENTATION_TAG) is None


@pytest.mark.parametrize("variant_format", ["webp", "jpeg"])
def test_colour_profile_is_kept(variant_format):
    profile = images.srgb_icc()
    for _data, variant in variants(render(images.phone_jpeg(), variant_format)):
        assert variant.info.get("icc_profile") == profile


@pytest.mark.parametrize(("variant_format", "pillow_format"), [("webp", "WEBP"), ("jpeg", "JPEG")])
def test_variant_sizes_and_format(variant_format, pillow_format):
    rendered = render(images.plain("JPEG", size=(4000, 3000)), variant_format)

    (_t, thumbnail), (_l, large) = variants(rendered)
    assert thumbnail.format == large.format == pillow_format
    assert large.size == (1280, 960)
    assert thumbnail.size == (320, 240)
    assert (rendered.width, rendered.height) == (4000, 3000)


def test_small_pictures_are_not_enlarged():
    (_t, thumbnail), (_l, large) = variants(render(images.plain("PNG", size=(100, 50))))
    assert large.size == (100, 50)
    assert thumbnail.size == (100, 50)


def test_blurhash_is_a_valid_placeholder():
    import blurhash

    rendered = render(images.phone_jpeg())
    assert blurhash.is_valid_blurhash(rendered.blurhash)
    # Portrait pictures get more vertical components: 3x4 → 2 + 4 + 2 * 11 characters.
    assert len(rendered.blurhash) == 28


def test_heic_is_accepted():
    inspection = imaging.inspect(io.BytesIO(images.plain("HEIF", size=(64, 48))), max_pixels=40_000_000)
    assert inspection.format == "HEIF"
    _data, large = variants(render(images.plain("HEIF", size=(64, 48))))[1]
    assert large.size == (64, 48)


def test_animated_gif_becomes_its_first_frame():
    for _data, variant in variants(render(images.animated_gif())):
        assert getattr(variant, "n_frames", 1) == 1
        assert not getattr(variant, "is_animated", False)
        red, green, _blue = variant.convert("RGB").getpixel((5, 5))
        assert red > 200 and green < 60


def test_transparent_png_keeps_alpha_in_webp_and_is_flattened_on_white_in_jpeg():
    source = images.plain("PNG", size=(20, 20), mode="RGBA", color=(0, 0, 0, 0))
    _data, webp = variants(render(source, "webp"))[1]
    assert webp.mode == "RGBA" and webp.getpixel((5, 5))[3] == 0
    _data, jpeg = variants(render(source, "jpeg"))[1]
    assert jpeg.mode == "RGB" and min(jpeg.getpixel((5, 5))) > 240


@pytest.mark.parametrize(
    "data",
    [b"This is a text file called photo.jpg\n" * 20, images.plain("BMP"), images.plain("TIFF"), b""],
    ids=["text", "bmp", "tiff", "empty"],
)
def test_anything_but_the_allowed_formats_is_unsupported(data):
    with pytest.raises(imaging.ImageRejected) as rejected:
        imaging.inspect(io.BytesIO(data), max_pixels=40_000_000)
    assert rejected.value.reason == "unsupported"


@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (1, 100_000_000)])
def test_pixel_bombs_are_refused_from_the_header_alone(width, height):
    bomb = images.png_header_only(width, height)
    assert len(bomb) < 200

    started = time.perf_counter()
    with pytest.raises(imaging.ImageRejected) as rejected:
        imaging.inspect(io.BytesIO(bomb), max_pixels=40_000_000)
    with pytest.raises(imaging.ImageRejected):
        render(bomb)
    assert time.perf_counter() - started < 0.1
    assert rejected.value.reason == "too_many_pixels"


def test_pixel_limit_is_a_setting_not_a_constant():
    data = images.plain("PNG", size=(100, 100))
    with pytest.raises(imaging.ImageRejected):
        imaging.inspect(io.BytesIO(data), max_pixels=9_999)
    assert imaging.inspect(io.BytesIO(data), max_pixels=10_000).width == 100


def test_a_picture_whose_data_stops_early_is_unreadable():
    data = images.truncated_jpeg()
    assert imaging.inspect(io.BytesIO(data), max_pixels=40_000_000).format == "JPEG"  # the header is fine
    with pytest.raises(imaging.ImageRejected) as rejected:
        render(data)
    assert rejected.value.reason == "unreadable"


def test_heic_with_orientation_and_gps_comes_out_upright_and_clean():
    picture = Image.new("RGB", (400, 200), (0, 0, 255))
    picture.paste((255, 0, 0), (0, 0, 200, 200))
    exif = Image.Exif()
    exif[images.ORIENTATION_TAG] = 6
    exif.get_ifd(images.GPS_IFD).update({1: "N", 2: (52.0, 22.0, 31.0)})
    buffer = io.BytesIO()
    picture.save(buffer, format="HEIF", exif=exif.tobytes())

    rendered = render(buffer.getvalue())

    assert (rendered.width, rendered.height) == (200, 400)
    for _data, variant in variants(rendered):
        top = variant.convert("RGB").getpixel((variant.width // 2, variant.height // 8))
        assert top[0] > 200 and top[2] < 60
        assert len(variant.getexif()) == 0
