"""Shared pieces of the benchmarks: load generation, percentiles, the report file.

Load always comes from a separate process (this one) talking to the server over
127.0.0.1; each scenario records p50/p99, throughput, the command, date and commit.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# `make bench-small` points both elsewhere, so a smoke run never overwrites the real figures.
REPORT = Path(os.environ.get("BENCH_REPORT") or ROOT / "docs" / "benchmarks.md")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Sample:
    """Latencies in milliseconds (client-side and, when the server sent it, server-side)."""

    client_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.client_ms) / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "n": len(self.client_ms),
            "errors": self.errors,
            "client_p50": percentile(self.client_ms, 50),
            "client_p99": percentile(self.client_ms, 99),
            "server_p50": percentile(self.server_ms, 50),
            "server_p99": percentile(self.server_ms, 99),
            "rps": self.throughput,
        }


_SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")


async def http_load(urls: list[str], *, token: str, concurrency: int, total: int, warmup: int = 20) -> Sample:
    """GET `urls` round-robin from `concurrency` keep-alive connections, `total` requests."""
    import httpx

    sample = Sample()
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        for index in range(warmup):
            await client.get(urls[index % len(urls)])
        counter = iter(range(total))

        async def worker() -> None:
            for index in counter:
                started = time.perf_counter()
                response = await client.get(urls[index % len(urls)])
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    sample.errors += 1
                    continue
                sample.client_ms.append(elapsed)
                match = _SERVER_TIMING.search(response.headers.get("server-timing", ""))
                if match:
                    sample.server_ms.append(float(match.group(1)))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        sample.elapsed_s = time.perf_counter() - started
    return sample


@dataclass
class WrkResult:
    """Throughput and client latency from wrk (a C load generator: one thread, a few % of a core)."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    command: str
    # How wrk's connections were spread over the server processes, e.g. "5/3" (connection_split).
    split: str = "?"

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_load(url: str, *, token: str, connections: int, seconds: int, threads: int = 1) -> WrkResult:
    """`connections` keep-alive connections for `seconds` against one URL (`make bench` installs wrk)."""
    script = Path(__file__).with_name("wrk_report.lua")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), "-H", f"Authorization: Bearer {token}", url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    time.sleep(min(2.0, seconds / 2))
    split = connection_split(urlsplit(url).port)
    output = process.communicate(timeout=seconds + 60)[0]
    if process.returncode:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output}")
    match = re.search(r"WRK_RESULT (.*)", output)
    if match is None:
        raise RuntimeError(f"wrk printed no result: {output}")
    values = {key: int(value) for key, value in (pair.split("=") for pair in match.group(1).split())}
    shown = " ".join(part if not part.startswith("Authorization") else "Authorization: Bearer …" for part in command[:-1])
    return WrkResult(
        requests=values["requests"],
        duration_s=values["duration_us"] / 1e6,
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        errors=values["non2xx"] + values["connect"] + values["read"] + values["write"] + values["timeout"],
        command=shown.replace(str(script), "bench/wrk_report.lua") + " <url>",
        split=split,
    )


def connection_split(port: int) -> str:
    """How the established client connections to `port` are spread over the server processes,
    e.g. "5/3". uvicorn's workers share one listening socket and the kernel picks which process
    accepts each connection, once for a keep-alive connection: with 8 clients an 8/0 or 7/1 split
    leaves one process (one GIL) with all or most of the Python work, which caps throughput at
    what one core can do whatever the other one is doing (bench/f5_wrk.py shows the effect)."""
    output = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True).stdout
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", output):
        counts[pid] = counts.get(pid, 0) + 1
    return "/".join(str(count) for count in sorted(counts.values(), reverse=True)) or "?"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def command_line() -> str:
    return " ".join([Path(sys.executable).name, *sys.argv])


def write_section(heading: str, body: str, *, first: bool = False) -> None:
    """Replace (or append; with `first`, put on top) the `## heading` section of docs/benchmarks.md."""
    header = "# Benchmarks\n\nFigures measured on this project's 2-core machine. Each section says how it was produced.\n"
    text = REPORT.read_text() if REPORT.exists() else header
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(section + "\n", text)
    elif first and "\n## " in text:
        at = text.index("\n## ") + 1
        text = text[:at] + section + "\n" + text[at:]
    else:
        text = text.rstrip() + "\n\n" + section
    REPORT.write_text(text.rstrip() + "\n")


def machine_speed() -> str:
    """How fast this machine runs Python, so figures from different machines can be compared.

    The same fixed work every time (JSON round trips and a sort, the shape of an API request's
    Python), nine times by CPU time: a faster core gives a smaller best, a busy host a larger median. The previous
    pass's machine and this one can differ by 2-3x on the same code (docs/benchmarks.md).
    """
    import json

    data = [{"id": number, "name": f"user {number}", "groups": [number % 7, number % 11], "score": number * 0.5} for number in range(2000)]
    runs = []
    for _ in range(9):
        started = time.process_time()
        for _ in range(20):
            json.loads(json.dumps(data))
            sorted(data, key=lambda row: row["name"])
        runs.append(time.process_time() - started)
    best, middle = min(runs), statistics.median(runs)
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")), "")
    # The median moves when the host is busy (another tenant's load shows up as CPU time here,
    # not as steal): this session's machine ran the same requests at 1.0 and at 1.9 ms CPU.
    return (
        f"calibration best {best * 1000:.0f} / median {middle * 1000:.0f} ms CPU "
        f"(bench/lib.py machine_speed; lower is faster){f', {model}' if model else ''}"
    )


def load_average() -> str:
    """The 1/5/15-minute load averages, recorded next to each figure (the machine is shared)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "n/a"


DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR") or ROOT / "bench" / ".data")


def save_rows(name: str, rows: list[str]) -> None:
    """Keep a scenario's Markdown table rows for bench/run_all.py's summary table."""
    import json

    DATA_DIR.mkdir(exist_ok=True)
    (DATA_DIR / f"rows-{name}.json").write_text(json.dumps(rows, indent=1))


def stamp() -> str:
    return f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit `{git_commit()}` on {os.cpu_count()} cores."


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, timeout: float = 30) -> None:
    """Until `url` answers 200 (a server started by a bench coming up)."""
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")
