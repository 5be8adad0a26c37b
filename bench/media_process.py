"""Time to process one 12-megapixel phone JPEG into both variants (p50 over 20 runs, one core).

    .venv/bin/python bench/media_process.py [--runs 20] [--no-write]

Measures media.imaging.render: header check, draft decode, orientation, both variants
from the one decode, blurhash, and encoding (WebP and JPEG). For comparison it also times
the naive pipeline (full decode, then two resizes). Writes the "## Media" section of
docs/benchmarks.md, leaving every other section as it is.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageCms, ImageDraw, ImageFilter, ImageOps  # noqa: E402

from media import imaging  # noqa: E402

DATA = ROOT / "bench" / ".data"  # the generated photo is the same for every run
REPORT = Path(os.environ.get("BENCH_REPORT") or ROOT / "docs" / "benchmarks.md")
SIZE = (4000, 3000)
LIMITS = {"quality": 80, "thumbnail_size": 320, "large_size": 1280, "max_pixels": 40_000_000}


def phone_photo() -> bytes:
    """Like a phone's: 12 MP, quality 90, EXIF with GPS and orientation 6, an ICC profile.
    Smooth areas, edges and sensor-like noise, so the JPEG carries a realistic amount of data."""
    path = DATA / "phone-12mp.jpg"
    if path.exists():
        return path.read_bytes()
    DATA.mkdir(parents=True, exist_ok=True)
    gradient = Image.linear_gradient("L").resize(SIZE)
    image = Image.merge("RGB", (gradient, gradient.rotate(90).resize(SIZE), ImageOps.invert(gradient)))
    draw = ImageDraw.Draw(image)
    for index in range(60):
        x, y = (index * 997) % SIZE[0], (index * 613) % SIZE[1]
        draw.ellipse((x, y, x + 400, y + 300), fill=((index * 40) % 256, (index * 90) % 256, (index * 150) % 256))
    noise = Image.effect_noise(SIZE, 24).filter(ImageFilter.GaussianBlur(0.6))
    image = Image.blend(image, Image.merge("RGB", (noise, noise, noise)), 0.25)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 31.0), 3: "E", 4: (4.0, 53.0, 40.0)})
    buffer = io.BytesIO()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image.save(buffer, format="JPEG", quality=90, exif=exif.tobytes(), icc_profile=icc)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def bomb(data: bytes) -> bytes:
    """The phone photo with its frame header claiming 60,000 × 60,000 pixels (3.6 GP)."""
    start = data.index(b"\xff\xc0") if b"\xff\xc0" in data else data.index(b"\xff\xc2")
    patched = bytearray(data)
    patched[start + 5 : start + 9] = (60_000).to_bytes(2, "big") * 2
    return bytes(patched)


def rejection_timings(runs: int) -> dict[str, list[float]]:
    """I2: how long a bomb or a file of the wrong format takes to be refused (no pixel decoded)."""
    samples = {
        "bomb (60,000 × 60,000 JPEG header)": bomb(phone_photo()),
        "PDF": b"%PDF-1.4\n" + b"0" * 50_000,
        "random bytes": os.urandom(50_000),
    }
    result = {}
    for name, payload in samples.items():
        values = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            try:
                imaging.render(io.BytesIO(payload), variant_format="webp", **LIMITS)
            except imaging.ImageRejected:
                pass
            else:
                raise AssertionError(f"{name} was not rejected")
            values.append((time.perf_counter() - started) * 1000)
        result[name] = values[1:]
    return result


def naive(data: bytes, variant_format: str) -> None:
    """What the pipeline avoids: decode all 12 MP, then scale twice from full size."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    for box in (1280, 320):
        variant = upright.copy()
        variant.thumbnail((box, box), Image.Resampling.LANCZOS)
        variant.save(io.BytesIO(), format=variant_format.upper(), quality=80)


def timings(function, runs: int) -> list[float]:
    function()  # warm-up: plugin loading and first-touch allocations are not part of a run
    result = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        result.append((time.perf_counter() - started) * 1000)
    return result


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * len(ordered)) - 1)]
    return f"{statistics.median(values):.0f} ms | {p90:.0f} ms | {ordered[0]:.0f} ms"


def write_section(section: str) -> None:
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Media\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    REPORT.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--json", help="also write the p50s as JSON to this file (for bench/run_all.py)")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as a worker process has
    data = phone_photo()
    rows = []
    p50 = {}
    for variant_format in ("webp", "jpeg"):
        rendered = imaging.render(io.BytesIO(data), variant_format=variant_format, **LIMITS)
        measured = timings(lambda fmt=variant_format: imaging.render(io.BytesIO(data), variant_format=fmt, **LIMITS), args.runs)
        baseline = timings(lambda fmt=variant_format: naive(data, fmt), max(5, args.runs // 4))
        p50[variant_format] = statistics.median(measured)
        rows.append(
            f"| {variant_format} | {summary(measured)} | {len(rendered.thumbnail) // 1024} KB + {len(rendered.large) // 1024} KB "
            f"| {statistics.median(baseline):.0f} ms |"
        )
        print(f"{variant_format}: p50 {statistics.median(measured):.0f} ms (naive {statistics.median(baseline):.0f} ms)")

    rejected = rejection_timings(max(50, args.runs * 5))
    rejection_rows = [
        f"| {name} | {statistics.median(values):.2f} ms | {sorted(values)[min(len(values) - 1, round(0.99 * (len(values) - 1)))]:.2f} ms |"
        for name, values in rejected.items()
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if args.json:
        import json

        Path(args.json).write_text(
            json.dumps(
                {
                    "render_p50_ms": p50,
                    "reject_p50_ms": {name: statistics.median(v) for name, v in rejected.items()},
                    "reject_max_ms": {name: max(v) for name, v in rejected.items()},
                    "load": load,
                },
                indent=1,
            )
        )
    section = f"""## Media

Time to process one phone photo: a 12-megapixel ({SIZE[0]}×{SIZE[1]}) JPEG, quality 90, with
EXIF (GPS, orientation 6) and an ICC profile, {len(data) // 1024} KB. One run is
`media.imaging.render`: header check, `draft()` decode at reduced scale, both variants
(large 1280 px, thumbnail 320 px) from that one decode, orientation applied, metadata
dropped, profile kept, blurhash, encoding. Storage and database writes are not included.
{args.runs} runs after a warm-up, pinned to one core. Reproduce: `.venv/bin/python bench/media_process.py`.

| variant format | p50 | p90 | best | variant sizes | naive pipeline p50 (full decode, resize twice) |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Refusal before decoding (I2), `render` until `ImageRejected`, {max(50, args.runs * 5)} runs each:

| input | p50 | p99 |
|---|---|---|
{chr(10).join(rejection_rows)}

Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python {platform.python_version()},
Pillow {Image.__version__}, {os.cpu_count()} cores shared with other work (load average {load:.1f} at the end;
on a loaded machine these are upper bounds). At the WebP p50 one worker process
handles about {1000 / p50["webp"]:.1f} photos per second per core.
"""
    if not args.no_write:
        write_section(section)
    print(section)


if __name__ == "__main__":
    main()
