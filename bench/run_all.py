"""Seed (or reuse) the data set, run every scenario, write docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/run_all.py [--scale 1.0] [--small] [--only api,ws,storm,push,media,search,rush]

`make bench` runs this at scale 1.0, `make bench-small` at scale 0.01 with few sockets
and devices (a quick check that every script still works, not a measurement).
Each script writes its own section; this one adds the summary table on top.
"""

# ruff: noqa: E501 - the report lines are long Markdown table rows

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import DATA_DIR, REPORT, ROOT, command_line, git_commit, load_average, machine_speed, write_section

PYTHON = sys.executable


def run(step: str, argv: list[str], env: dict | None = None) -> float:
    print(f"== {step}: {' '.join(argv)}  (load {load_average()})", flush=True)
    started = time.perf_counter()
    subprocess.run([PYTHON, *argv], cwd=ROOT, env={**os.environ, **(env or {})}, check=True)
    seconds = time.perf_counter() - started
    print(f"== {step} took {seconds:.0f} s", flush=True)
    return seconds


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def push_rows(p1: dict | None, p2: dict | None) -> list[str]:
    rows = []
    v = lambda ok: "pass" if ok else "**miss**"  # noqa: E731
    if p1:
        r = p1["runs"][0]
        ok = r["per_second"] >= 400
        rows.append(
            f"| P1 | push recipients/s, one worker process, fake FCM {r['run'].split(':')[2]} ms | ≥ 400/s per worker process | "
            f"{r['per_second']:,.0f}/s ({r['devices']:,} devices in {r['seconds']:.1f} s) | | | {v(ok)} | {p1['load_start']:.2f} → {p1['load_end']:.2f} |"
        )
    for label, data in (("C1", p1), ("C1", p2)):
        if data:
            r = data["runs"][0]
            limit = math.ceil(r["devices"] / 500) + 1
            names = ", ".join(f"{k.rsplit('.', 1)[-1]} {n}" for k, n in sorted((r.get("task_names") or {}).items()))
            rows.append(
                f"| {label} | Celery tasks for one broadcast to {r['devices']:,} devices | ≤ ceil(n / 500) + 1 = {limit} | {r['tasks']} "
                f"({names}) | | | {v(r['tasks'] <= limit)} | |"
            )
    if p2:
        r = p2["runs"][0]
        ok = r["request_ms"] <= 200 and r["seconds"] <= 240
        rows.append(
            f"| P2 | {r['devices']:,}-recipient push: enqueue in the request; end to end ({p2['concurrency']} worker processes) | ≤ 200 ms; ≤ 4 min | "
            f"{r['request_ms']:.0f} ms; {r['seconds']:.0f} s ({r['per_second']:,.0f}/s) | | | {v(ok)} | {p2['load_start']:.2f} → {p2['load_end']:.2f} |"
        )
    return rows


def media_rows(media: dict) -> list[str]:
    v = lambda ok: "pass" if ok else "**miss**"  # noqa: E731
    p50 = media["render_p50_ms"]
    worst = max(media["reject_max_ms"].values())
    return [
        f"| I1 | 12 MP JPEG → upright 1280 + 320 px, one core | p50 ≤ 200 ms | WebP p50 {p50['webp']:.0f} ms, JPEG p50 {p50['jpeg']:.0f} ms | "
        f"| | {v(min(p50.values()) <= 200)} (JPEG) / {v(p50['webp'] <= 200)} (WebP) | {media['load']:.2f} |",
        f"| I2 | reject a bomb or bad format before decoding | ≤ 5 ms | p50 {max(media['reject_p50_ms'].values()):.2f} ms, worst {worst:.2f} ms "
        f"| | | {v(max(media['reject_p50_ms'].values()) <= 5)} | {media['load']:.2f} |",
    ]


def summary_rows() -> list[str]:
    """The rows of the summary table docs/benchmarks.md shows now."""
    text = REPORT.read_text() if REPORT.exists() else ""
    match = re.search(r"^## Summary\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    lines = match.group(1).splitlines() if match else []
    return [line for line in lines if line.startswith("| ") and not line.startswith("| id ")]


def row_id(row: str) -> str:
    return row.split("|")[1].strip()


def read_json(path: Path) -> dict | list | None:
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--only", default="api,ws,storm,push,media,search,rush")
    parser.add_argument("--push-devices", type=int, default=10_000)
    parser.add_argument("--p2-devices", type=int, default=100_000)
    args = parser.parse_args()
    steps = set(args.only.split(","))
    database_url = os.environ["DATABASE_URL"]
    if args.small:
        args.push_devices, args.p2_devices = min(args.push_devices, 1_000), min(args.p2_devices, 2_000)
    ensure_database(database_url)
    speed = machine_speed()  # before any step: on a quiet machine
    run("seed", ["bench/seed.py", "--scale", str(args.scale)])
    push_database = database_url + "push"  # a database of its own: push_fanout adds organisations
    started = time.time()
    if "api" in steps:
        run("api", ["bench/api_bench.py", *(["--requests", "100", "--seconds", "5"] if args.small else [])])
    if "ws" in steps:
        run("ws", ["bench/ws_bench.py", *(["--small"] if args.small else [])])
    if "storm" in steps:
        run("storm W6", ["bench/storm.py", *(["--small"] if args.small else [])])
    if "push" in steps:
        env = {"BENCH_DATABASE_URL": push_database, "BENCH_REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")}
        run("push P1", ["bench/push_fanout.py", "--devices", str(args.push_devices), "--runs", "pool:32:20", "--concurrency", "1",
                        "--json", str(DATA_DIR / "push-p1.json"), "--write-docs"], env)  # fmt: skip
        run("push P2", ["bench/push_fanout.py", "--devices", str(args.p2_devices), "--runs", "pool:32:20", "--concurrency", "2",
                        "--timeout", "600", "--json", str(DATA_DIR / "push-p2.json")], env)  # fmt: skip
    if "media" in steps:
        run("media", ["bench/media_process.py", "--json", str(DATA_DIR / "media.json")])
    if "search" in steps:
        run("search", ["bench/search_bench.py", *(["--requests", "50"] if args.small else [])])
    if "rush" in steps:  # M1, the morning rush (bench/rush.py): the capacity curve and 5 minutes at 150/s
        run("rush", ["bench/rush.py", *(["--small"] if args.small else ["--socket-share"])])

    # Each scenario's rows as its script last saved them (bench/.data/rows-*.json); a scenario with
    # no saved rows on this machine (not run here yet: a fresh clone, or one run on its own like
    # voice, surveys, polls, console) keeps the rows the summary table shows now.
    previous = summary_rows()

    def saved(name: str, keep) -> list[str]:
        rows = read_json(DATA_DIR / f"rows-{name}.json")
        return rows if rows is not None else [row for row in previous if keep(row_id(row), row)]

    rows = []
    rows += saved("api", lambda id_, _row: id_ in {"F1", "F2", "F1g", "F3", "F4", "F5", "D1"})
    rows += saved("search", lambda id_, _row: id_ == "Q1")
    rows += saved("console", lambda id_, _row: id_ == "K1")  # bench/console_bench.py (K1)
    rows += saved("ws", lambda id_, _row: id_ in {"W1", "W3", "W4", "W5"})
    rows += saved("storm", lambda id_, _row: id_ == "W6")  # bench/storm.py (W6)
    rows += saved("rush", lambda id_, _row: id_ == "M1")  # bench/rush.py (M1)
    p1, p2 = read_json(DATA_DIR / "push-p1.json"), read_json(DATA_DIR / "push-p2.json")
    rows += push_rows(p1, p2) if p1 or p2 else [row for row in previous if row_id(row) in {"P1", "C1", "P2"}]
    media = read_json(DATA_DIR / "media.json")
    rows += media_rows(media) if media else [row for row in previous if row_id(row) in {"I1", "I2"}]
    rows += saved("voice", lambda id_, _row: id_ in {"V1", "V1c"})  # bench/voice_bench.py (its own database; run on its own)
    rows += saved("survey", lambda id_, row: id_ == "S1" and "poll" not in row)  # bench/survey_bench.py (its own database)
    for via, marker in (("service", "vote service"), ("http", "over HTTP")):  # bench/poll_bench.py, run on its own
        rows += saved(f"poll-{via}", lambda id_, row, marker=marker: id_ == "S1" and marker in row)
    body = "\n".join(
        [
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))} at commit `{git_commit()}`, scale {args.scale}"
            f"{' (small: a smoke run, not a measurement)' if args.small else ''}, on {os.cpu_count()} cores shared with other work;",
            f"machine speed: {speed}.",
            f"Command: `{command_line()}` (`make bench` / `make bench-small`). Every row's details, floor and method are in the",
            "sections below; 'load avg' is the machine's 1/5/15-minute load when the figure was taken (2 cores: above 2",
            "means the figure competed for CPU). Rows from a step that was not run keep their previous values.",
            "",
            "| id | what | target | measured | floor | ratio | verdict | load avg |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    write_section("Summary", body, first=True)
    print(body)


if __name__ == "__main__":
    main()
