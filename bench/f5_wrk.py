"""F5 throughput with wrk: `/me` and the unread count against uvicorn, 2 processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/f5_wrk.py [--checkout /path/to/tree] [--connections 8] [--seconds 15]

wrk (`apt-get install wrk`) is C and event-driven: one thread drives tens of thousands of
requests per second, so the load generator is not what limits a Django server. The
server runs from `--checkout` (default: this tree), with the production settings of
`api_bench.py`; the load average is printed with each figure because the machine is shared.
"server CPU" is the user + system time the uvicorn processes used during the run divided
by the requests served: unlike req/s it hardly depends on what else the machine runs, and
2 cores / 800 req/s leaves 2.5 ms of it per request, load generator and databases included.
The PostgreSQL + Redis figure is the CPU of those servers' processes over the same run, and
"machine" all busy CPU time (/proc/stat, wrk and the kernel included): 2,000 ms / machine
is the throughput ceiling of the two cores for that request.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_bench import PRODUCTION_ENV
from bench.lib import ROOT, connection_split, free_port, load_average, wait_for

PATHS = ["/api/v1/me", "/api/v1/notifications/unread-count"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _server_cpu_seconds(master: int) -> float:
    """User + system CPU of uvicorn's worker processes (children of the master), from /proc."""
    total = 0.0
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for pid in [master, *map(int, children)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total


def _processes_cpu_seconds(names: tuple[str, ...]) -> float:
    """User + system CPU of every process whose name is one of `names` (PostgreSQL's backends,
    redis-server): the database side of each request, which the server's own figure leaves out."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in names:
                continue
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def _machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores, /proc/stat): server, databases, wrk, kernel."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def _token() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()
    from bench.api_bench import bench_user, new_token

    return new_token(bench_user(), "f5-wrk")


def _wrk(url: str, token: str, *, threads: int, connections: int, seconds: int) -> dict[str, str]:
    process = subprocess.Popen(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}", url],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(min(2.0, seconds / 2))
    split = connection_split(int(url.split(":")[2].split("/")[0]))
    output = process.communicate()[0]
    if process.returncode:
        raise RuntimeError(f"wrk failed: {output}")
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    p50 = re.search(r"\s50%\s+(\S+)", output)
    p99 = re.search(r"\s99%\s+(\S+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    count = re.search(r"(\d+) requests in", output)
    return {
        "requests": int(count.group(1)) if count else 0,
        "rps": rps.group(1) if rps else "?",
        "p50": p50.group(1) if p50 else "?",
        "p99": p99.group(1) if p99 else "?",
        "non2xx": errors.group(1) if errors else "0",
        "split": split,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkout", default=str(ROOT))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4, help="uvicorn processes (the deployment's two per core)")
    parser.add_argument("--launcher", choices=["serve", "uvicorn"], default="serve", help="a socket per worker, or shared")
    parser.add_argument("--app", default="server.asgi:application", help="the floor: bench.asgi_floor:application")
    parser.add_argument("--paths", nargs="+", default=PATHS, help="e.g. /healthz: Django with no view work")
    parser.add_argument(
        "--spread-samples",
        type=int,
        default=0,
        help="instead: open this many fresh sets of --connections connections (1 s of wrk on /healthz each) and count how they spread",
    )
    args = parser.parse_args()
    token = _token()
    port = free_port()
    env = {**os.environ, **PRODUCTION_ENV}
    launcher = ["server.serve", "--app", args.app] if args.launcher == "serve" else ["uvicorn", args.app]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            *launcher,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=args.checkout,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz")
        if args.spread_samples:
            spreads: dict[str, int] = {}
            for _ in range(args.spread_samples):
                load = subprocess.Popen(["wrk", "-t1", f"-c{args.connections}", "-d1s", base + "/healthz"], stdout=subprocess.DEVNULL)
                time.sleep(0.5)
                split = connection_split(port)
                spreads[split] = spreads.get(split, 0) + 1
                load.wait()
            shown = ", ".join(f"{split}: {count}" for split, count in sorted(spreads.items(), key=lambda item: -item[1]))
            print(f"{args.launcher}, {args.workers} workers, {args.spread_samples} sets of {args.connections} connections: {shown}")
            return
        for path in args.paths:
            _wrk(base + path, token, threads=1, connections=args.connections, seconds=3)  # warm both processes
            cpu_before = _server_cpu_seconds(server.pid)
            db_before = _processes_cpu_seconds(("postgres", "redis-server"))
            busy_before = _machine_busy_seconds()
            result = _wrk(base + path, token, threads=args.threads, connections=args.connections, seconds=args.seconds)
            per_request = 1000 / max(1, result["requests"])
            cpu_ms = (_server_cpu_seconds(server.pid) - cpu_before) * per_request
            db_ms = (_processes_cpu_seconds(("postgres", "redis-server")) - db_before) * per_request
            busy_ms = (_machine_busy_seconds() - busy_before) * per_request
            print(
                f"{path:40s} {result['rps']:>9s} req/s  p50 {result['p50']:>8s}  p99 {result['p99']:>8s}  "
                f"CPU ms/request: server {cpu_ms:.2f}, PostgreSQL+Redis {db_ms:.2f}, machine {busy_ms:.2f}  "
                f"non-2xx {result['non2xx']}  connections per process {result['split']}  load {load_average()}  "
                f"(wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, {time.strftime('%H:%M:%S')})",
                flush=True,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
