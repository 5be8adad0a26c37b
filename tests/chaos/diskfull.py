"""Media disk full rehearsal (`python -m tests.chaos.run disk-full`, issue #25).

The stack's MEDIA_ROOT is a small tmpfs mounted by the run. Under the chaos run's mixed load
(posts, comments, reactions, same-key replays) plus feed reads and a steady stream of photo
uploads (real JPEGs, most of them then attached to a post, the rest abandoned), the volume
fills: uploads must answer 507 `storage_full` in the error envelope, fast, never a 500, while
everything else keeps working. Then the "operator" grows the volume (`mount -o remount,size=`)
and uploads succeed again without a restart. Afterwards: every acknowledged post is there once,
no Media row names a missing or half-written file, nothing half-written is attached to a post,
no file on the volume is unaccounted for, and the orphan sweep (`media_orphans_delete`, hourly
on beat) run with a `now` past MEDIA_ORPHAN_TTL removes the abandoned uploads and their files.
"""

from __future__ import annotations

import asyncio
import io
import random
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

from tests.chaos.stack import RUN_ID, Stack, wait_for

UPLOAD_BUDGET_S = 2.0


def photo(rng: random.Random, size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG that does not compress away (noise over a gradient): ~230 KB, variants ~270 KB."""
    from PIL import Image

    noise = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(noise, gradient, 0.3).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def mount_tmpfs(path: Path, mb: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mb}m,mode=0755", "tmpfs", str(path)], check=True)


def resize_tmpfs(path: Path, mb: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={mb}m", str(path)], check=True)


def unmount(path: Path) -> None:
    mounted = subprocess.run(["mountpoint", "-q", str(path)], check=False).returncode == 0
    if mounted and subprocess.run(["umount", str(path)], check=False).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], check=False)


def volume_used_mb(path: Path) -> float:
    import os

    stat = os.statvfs(path)
    return round((stat.f_blocks - stat.f_bfree) * stat.f_frsize / 2**20, 2)


def intact(path: Path, expected_size: int | None = None) -> bool:
    """The file is there, whole (size as uploaded, when known) and decodes."""
    from PIL import Image

    if not path.is_file() or (expected_size is not None and path.stat().st_size != expected_size):
        return False
    try:
        with Image.open(path) as image:
            image.load()
    except Exception:
        return False
    return True


async def uploader(index: int, stack: Stack, person: dict, deadline: float, pool: list[bytes], record: dict, pause: float) -> None:
    """Upload, then attach most uploads to a post (the rest are abandoned: orphans)."""
    import httpx

    rng = random.Random(1000 + index)
    headers = {"Authorization": f"Bearer {person['token']}"}
    sequence = 0
    async with httpx.AsyncClient(base_url=stack.http, timeout=UPLOAD_BUDGET_S + 8) as http:
        while time.monotonic() < deadline:
            content = rng.choice(pool)
            started = time.monotonic()
            try:
                response = await http.post("/api/v1/media", files={"file": ("photo.jpg", content, "image/jpeg")}, headers=headers)
                outcome = str(response.status_code)
            except httpx.HTTPError as error:
                response, outcome = None, type(error).__name__
            took = time.monotonic() - started
            record["uploads"].append((started, took, outcome))
            if response is not None and response.status_code == 507:
                error = response.json().get("error", {}) if "json" in response.headers.get("content-type", "") else {}
                if error.get("code") != "storage_full" or not error.get("message"):
                    record["bad_envelopes"] += 1
            if response is not None and response.status_code == 201:
                media_id = response.json()["id"]
                record["uploaded"][media_id] = len(content)
                if rng.random() < 0.7:
                    sequence += 1
                    body = {"body": f"chaos {RUN_ID} photo u{index} #{sequence}", "image_ids": [media_id]}
                    key = str(uuid.uuid4())
                    for attempt in range(4):
                        try:
                            posted = await http.post("/api/v1/posts", json=body, headers={**headers, "Idempotency-Key": key})
                            record["post_answers"][str(posted.status_code)] = record["post_answers"].get(str(posted.status_code), 0) + 1
                            if posted.status_code == 201:
                                record["photo_posts"][posted.json()["id"]] = media_id
                                break
                            if posted.status_code < 500:
                                break
                        except httpx.HTTPError:
                            pass
                        await asyncio.sleep(0.5 * 2**attempt)
                else:
                    record["abandoned"].add(media_id)
            await asyncio.sleep(pause)


async def feed_reader(stack: Stack, person: dict, deadline: float, latencies, pause: float) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {person['token']}"}
    async with httpx.AsyncClient(base_url=stack.http, timeout=UPLOAD_BUDGET_S + 3) as http:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = await http.get("/api/v1/feed", params={"page_size": 20}, headers=headers)
                latencies.add(started, time.monotonic() - started, f"feed {response.status_code}")
            except httpx.HTTPError as error:
                latencies.add(started, time.monotonic() - started, f"feed {type(error).__name__}")
            await asyncio.sleep(pause)


def scenario_disk_full(
    fcm, *, duration: float, clients: int, uploaders: int, media_mb: int, grown_mb: int, free_at: float, pause: float
) -> dict:
    from tests.chaos import run as chaos

    fcm.reset()
    stack = Stack(fcm_url=fcm.base_url(), service_account=fcm.service_account(), worker_concurrency=1)
    media_root = stack.tmp / "media"
    stack.env["MEDIA_ROOT"] = str(media_root)
    stack.env["THROTTLE_UPLOADS"] = "100000/min"  # the upload limit is not under test
    mount_tmpfs(media_root, media_mb)
    stack.start_redis()
    try:
        stack.setup_django()
        world = chaos.seed_people(clients + uploaders + 1)
        stack.start_server()
        stack.start_worker()
        rng = random.Random(7)
        pool = [photo(rng) for _ in range(8)]
        state = {"posts": {}, "comments": set(), "reactions": 0, "retries": 0, "replays": 0, "replay_mismatches": 0}
        state.update({"gave_up": 0, "refused": {}})
        record = {"uploads": [], "uploaded": {}, "photo_posts": {}, "abandoned": set(), "post_answers": {}, "bad_envelopes": 0}
        latencies = chaos.Latencies()
        timeline: dict[str, float] = {}

        async def main() -> None:
            started = timeline["start"] = time.monotonic()
            deadline = started + duration
            tasks = [asyncio.create_task(chaos.load_client(i, stack, world, deadline, state, latencies, pause=0.2)) for i in range(clients)]
            tasks.append(asyncio.create_task(feed_reader(stack, world["people"][clients + uploaders], deadline, latencies, 0.2)))
            tasks += [
                asyncio.create_task(uploader(i, stack, world["people"][clients + i], deadline, pool, record, pause))
                for i in range(uploaders)
            ]
            await asyncio.sleep(free_at)
            timeline["used_mb_before_free"] = volume_used_mb(media_root)
            await asyncio.to_thread(resize_tmpfs, media_root, grown_mb)  # the operator frees space
            timeline["freed"] = time.monotonic()
            timeline["freed_at"] = await asyncio.to_thread(_now)
            print(f"disk-full: volume grown to {grown_mb} MB at {timeline['freed'] - started:.1f} s", flush=True)
            await asyncio.gather(*tasks)
            timeline["load_end"] = time.monotonic()

        asyncio.run(main())
        return _figures(
            stack,
            world,
            state,
            record,
            latencies,
            timeline,
            media_root,
            load={
                "clients": clients,
                "uploaders": uploaders,
                "duration_s": duration,
                "volume_mb": media_mb,
                "grown_to_mb": grown_mb,
                "grown_at_s": free_at,
                "upload_pause_s": pause,
                "photo_kb": round(sum(map(len, pool)) / len(pool) / 1024),
            },
        )
    finally:
        stack.stop()
        unmount(media_root)


def _settle_processing(organization_id: int, timeout: float) -> tuple[float, int]:
    """What beat's stale sweep does 5 min later: uploads whose variant writes failed while the
    volume was full (retries exhausted) are queued again; then wait until none is processing."""
    from django.utils import timezone

    from media.models import Media, MediaStatus
    from media.services import media_process_stale

    started = time.monotonic()
    requeued = media_process_stale(now=timezone.now() + timedelta(minutes=6))
    processing = Media.objects.filter(organization_id=organization_id, status=MediaStatus.PROCESSING)
    wait_for(lambda: not processing.exists(), timeout=timeout, what="media processed", interval=1.0)
    return time.monotonic() - started, requeued


def _figures(stack, world, state, record, latencies, timeline, media_root: Path, *, load: dict) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from feed.models import Post, PostImage
    from media.models import Media, MediaStatus
    from media.services import media_orphans_delete

    uploads = record["uploads"]
    full = [(at, took) for at, took, outcome in uploads if outcome == "507"]
    freed = timeline["freed"]
    full_start = min(at for at, _ in full) if full else None
    first_ok_after = [at + took for at, took, outcome in uploads if outcome == "201" and at >= freed]
    by_status: dict[str, int] = {}
    for _, _, outcome in uploads:
        by_status[outcome] = by_status.get(outcome, 0) + 1
    others_full = latencies.window(full_start, freed) if full_start else {"requests": 0}
    processing = Media.objects.filter(organization_id=world["organization_id"], status=MediaStatus.PROCESSING)
    processing_at_load_end = {
        "all": processing.count(),
        "uploaded_before_growing": processing.filter(created_at__lt=timeline["freed_at"]).count(),
        "attached_to_a_post": processing.filter(attached_at__isnull=False).count(),
    }
    settled_s, requeued = _settle_processing(world["organization_id"], timeout=180)

    organization_media = Media.objects.filter(organization_id=world["organization_id"])
    rows = list(organization_media.values("pk", "status", "original_path", "thumbnail_path", "large_path", "attached_at"))
    broken_rows = []
    for row in rows:
        if row["status"] == MediaStatus.READY:
            ok = intact(media_root / row["thumbnail_path"]) and intact(media_root / row["large_path"])
        elif row["status"] == MediaStatus.PROCESSING:
            ok = intact(media_root / row["original_path"], record["uploaded"].get(row["pk"]))
        else:
            ok = True  # failed: no file promised
        if not ok:
            broken_rows.append(row["pk"])
    attached = PostImage.objects.filter(post__organization_id=world["organization_id"]).values_list("media_id", flat=True)
    attached_not_ready = organization_media.filter(pk__in=list(attached)).exclude(status=MediaStatus.READY).count()
    named = {path for row in rows for path in (row["original_path"], row["thumbnail_path"], row["large_path"]) if path}
    on_disk = {str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()}
    empty_dirs = _empty_directories(media_root)

    # Every post acknowledged (text and photo posts) is there, once.
    acked_ids = set(state["posts"].values()) | set(record["photo_posts"])
    stored_ids = set(Post.objects.filter(pk__in=acked_ids).values_list("pk", flat=True))
    bodies = list(Post.objects.filter(body__startswith=f"chaos {RUN_ID} ").values_list("body", flat=True))
    photo_posts_without_image = sum(
        1
        for post_id, media_id in record["photo_posts"].items()
        if not PostImage.objects.filter(post_id=post_id, media_id=media_id).exists()
    )

    # The orphan sweep (beat, hourly), run as if MEDIA_ORPHAN_TTL had passed.
    orphans = organization_media.filter(attached_at__isnull=True)
    orphan_files = {path for row in orphans.values("original_path", "thumbnail_path", "large_path") for path in row.values() if path}
    before = {"rows": orphans.count(), "files": len(orphan_files & on_disk), "volume_mb": volume_used_mb(media_root)}
    # Global, as on beat: it also takes what earlier runs left in the same database.
    swept_total = media_orphans_delete(now=timezone.now() + settings.MEDIA_ORPHAN_TTL + timedelta(minutes=1))
    on_disk_after = {str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()}
    after = {"rows": orphans.count(), "files": len(orphan_files & on_disk_after), "volume_mb": volume_used_mb(media_root)}
    after["empty_directories"] = _empty_directories(media_root)
    attached_files = {path for row in organization_media.values("thumbnail_path", "large_path") for path in row.values() if path}

    result = {
        "load": load,
        "uploads": {
            "requests": len(uploads),
            "by_status": by_status,
            "storage_full_507": len(full),
            "bad_507_envelopes": record["bad_envelopes"],
            "first_507_at_s": round(full_start - timeline["start"], 1) if full_start else None,
            "max_507_answer_ms": round(max(took for _, took in full) * 1000) if full else None,
            "over_2s_while_full": sum(1 for _, took in full if took > UPLOAD_BUDGET_S),
            "stored": len(record["uploaded"]),
            "attached_to_posts": len(record["photo_posts"]),
            "abandoned": len(record["abandoned"]),
            "post_answers": record["post_answers"],
        },
        "volume_used_mb_when_grown": timeline["used_mb_before_free"],
        "first_upload_after_growing_s": round(min(first_ok_after) - freed, 2) if first_ok_after else None,
        "other_requests": {
            "whole_run": latencies.window(timeline["start"], timeline["load_end"] + 1),
            "while_full": others_full,
        },
        "processing_at_load_end": processing_at_load_end,
        "requeued_by_stale_sweep": requeued,
        "processing_settled_after_s": round(settled_s, 1),
        "media_rows": len(rows),
        "media_rows_broken": broken_rows,
        "attached_not_ready": attached_not_ready,
        "photo_posts_without_their_image": photo_posts_without_image,
        "files_unaccounted": len(on_disk - named),
        "empty_directories": empty_dirs,
        "posts_acknowledged": len(acked_ids),
        "posts_lost": len(acked_ids - stored_ids),
        "posts_duplicated": len(bodies) - len(set(bodies)),
        "replay_mismatches": state["replay_mismatches"],
        "gave_up": state["gave_up"],
        "orphan_sweep": {"swept_rows": before["rows"] - after["rows"], "swept_all_runs": swept_total, "before": before, "after": after},
        "attached_files_kept": len(attached_files & on_disk_after) == len(attached_files),
    }
    answers = {**_counts(latencies)}
    for outcome, count in by_status.items():
        answers[f"upload {outcome}"] = count
    result["server_errors_5xx_other_than_507"] = sum(
        count for outcome, count in answers.items() if outcome.split()[-1].startswith("5") and not outcome.endswith("507")
    )
    result["ok"] = (
        len(full) > 0
        and result["uploads"]["bad_507_envelopes"] == 0
        and result["uploads"]["over_2s_while_full"] == 0
        and result["first_upload_after_growing_s"] is not None
        and result["server_errors_5xx_other_than_507"] == 0
        and not broken_rows
        and attached_not_ready == 0
        and photo_posts_without_image == 0
        and result["files_unaccounted"] == 0
        and empty_dirs == 0
        and after["empty_directories"] == 0
        and result["posts_lost"] == 0
        and result["posts_duplicated"] == 0
        and result["replay_mismatches"] == 0
        and after["rows"] == 0
        and after["files"] == 0
        and before["rows"] == len(record["uploaded"]) - len(record["photo_posts"])  # abandoned, or their post refused
        and result["attached_files_kept"]
        and others_full.get("over_2s", 0) == 0
    )
    return result


def _now():
    from django.utils import timezone

    return timezone.now()


def _empty_directories(root: Path) -> int:
    """Upload folders (`media/<org>/<random>`) with nothing in them."""
    return sum(1 for path in root.glob("media/*/*") if path.is_dir() and not any(path.iterdir()))


def _counts(latencies) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, _, outcome in latencies.samples:
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
