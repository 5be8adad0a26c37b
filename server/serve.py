"""The web server: uvicorn worker processes, each with a listening socket of its own.

    python -m server.serve --host 0.0.0.0 --port 8000 --workers 4 ...

`uvicorn --workers N` binds one socket in the supervisor and shares it with every worker,
and which process accepts a new connection is a race between them; a keep-alive connection
(a phone's, a load balancer's) stays where it landed. With 8 keep-alive clients and 2
workers (`bench/f5_wrk.py`, `connections per process`), all 8 landed on one process in 7
runs of 40, where an even coin gives one such run in 128: that process then does all the
Python work on one core (one GIL) while the other core idles, and throughput halves
(`/me` ~500 instead of ~950 req/s).

Here each worker binds its own socket to the same address with `SO_REUSEPORT`, and the
kernel spreads new connections over the workers' sockets by a hash of the connection's
addresses, whatever the workers are doing when a client connects (0 runs of 40 all on one
process; uneven spreads like 6/2 or 7/1 remain, as with any coin). That is why the
deployment runs **two workers per core** (`--workers` defaults to `WEB_CONCURRENCY`, else
twice the cores): a process with more than its share of connections then still leaves the
core to a sibling instead of to idleness (F5 `/me` 935-1,026 req/s with 4 workers on 2 cores
whatever the spread, docs/benchmarks.md). The supervisor is uvicorn's own (restarts a dead
worker; SIGTERM, SIGHUP, SIGTTIN/SIGTTOU as uvicorn documents them) and binds nothing, so no
connection lands on a socket nobody accepts. Only the options the deployment uses are
offered; everything else is uvicorn's default. Linux (SO_REUSEPORT's balancing); `make run`
runs it with one process (`--workers 1`: no supervisor), so development speaks the
deployment's WebSocket protocol (server/ws.py) too.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

from server.ws import BoundedWSProtocol

APP = "server.asgi:application"

# TCP keepalive on every accepted socket (Linux: accepted sockets inherit the listening
# socket's options): a peer silent for 20 s is probed every 10 s and dropped after 3 probes
# unanswered. With the wsproto protocol (server/ws.py) the server sends no WebSocket pings;
# this is what finds a phone that vanished from the network without a close.
KEEPALIVE_IDLE_S = 20
KEEPALIVE_INTERVAL_S = 10
KEEPALIVE_PROBES = 3
# The app sends only `{"type": "ping"}` on the stream: anything near this is not the app.
WS_MAX_SIZE = 64 * 1024


def bind_reuseport(host: str, port: int, backlog: int, *, reuseport: bool = True) -> socket.socket:
    """A listening socket that shares `host:port` with the other workers' (SO_REUSEPORT).

    It listens at once, before the application has loaded: the workers of a restart bind
    within milliseconds of each other, so the kernel spreads the phones reconnecting meanwhile
    evenly over their backlogs (10,000 sockets: 2,494 / 2,459 / 2,459 / 2,427 on four workers).
    Listening only once serving was tried (issue #26): the first worker to finish loading then
    took nearly every reconnect, 2,729 / 845 / 316 / 123 of 4,000, and sockets stay where they land."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


# uvicorn's supervisor pings each worker every half second and kills one that does not answer
# within 5 s (not configurable in uvicorn 0.35). A worker starved of CPU for a few seconds (a
# reconnect storm on a busy host, a full garbage collection over thousands of sockets' objects)
# is not hung, but was killed, and every socket it held reconnected at once: five kills in the
# 10,000-socket restart trial (docs/benchmarks.md, W6). A hung worker is still replaced, later.
WORKER_PING_TIMEOUT_SECONDS = 30.0


class PatientMultiprocess(Multiprocess):
    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=WORKER_PING_TIMEOUT_SECONDS):
                continue
            process.kill()
            process.join()
            if self.should_exit.is_set():
                return
            replacement = Process(self.config, self.target, self.sockets)
            replacement.start()
            self.processes[index] = replacement


class OwnSocketWorker:
    """What each worker process runs (picklable: the supervisor starts workers with spawn)."""

    def __init__(self, config: uvicorn.Config) -> None:
        self.config = config

    def __call__(self, sockets: list[socket.socket] | None = None) -> None:
        # One process alone binds the port exclusively: a second server started on it (a second
        # `make run`) fails with "address in use" instead of silently taking half the requests.
        sock = bind_reuseport(self.config.host, self.config.port, self.config.backlog, reuseport=self.config.workers > 1)
        try:
            uvicorn.Server(self.config).run(sockets=[sock])
        finally:
            metrics_process_exited()


def metrics_dir_reset() -> None:
    """Multi-process metrics (server/obs/metrics.py): start from an empty directory, so the
    files of a previous run's processes are not summed into this one's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def metrics_process_exited() -> None:
    """A worker that stops leaves the live gauges (open sockets, pool connections)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m server.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", default=APP)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1)))
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument(
        "--proxy-headers", action="store_true", help="uvicorn trusts X-Forwarded-* from --forwarded-allow-ips (use TRUSTED_PROXIES)"
    )
    parser.add_argument("--forwarded-allow-ips", default=None, help="uvicorn's default: 127.0.0.1 (FORWARDED_ALLOW_IPS)")
    parser.add_argument(
        "--ws-per-message-deflate", choices=["true", "false"], default="false", help="off: ~141 KiB less per socket (issue #10)"
    )
    parser.add_argument(
        "--ws",
        choices=["wsproto", "websockets"],
        default="wsproto",
        help="wsproto (server/ws.py): 30.5 instead of 42.8 KiB per idle socket; websockets: uvicorn's default, with server pings",
    )
    parser.add_argument("--ws-max-size", type=int, default=WS_MAX_SIZE, help="bytes; a larger incoming message closes the socket (1009)")
    parser.add_argument("--backlog", type=int, default=2048, help="each worker's listen backlog (a reconnect storm queues here)")
    args = parser.parse_args(argv)
    if args.proxy_headers and "*" in (args.forwarded_allow_ips or os.environ.get("FORWARDED_ALLOW_IPS", "")):
        # uvicorn would take the client address from X-Forwarded-For sent by anyone: the rate
        # limits and the audit log would believe a spoofed header (issue #25). The app reads the
        # header itself, from TRUSTED_PROXIES only (server/api/client_ip.py).
        parser.error("--forwarded-allow-ips '*' trusts every client's X-Forwarded-For; set TRUSTED_PROXIES instead")
    if args.port == 0:
        parser.error("--port 0 would give every worker a port of its own")
    return args


def config_from(args: argparse.Namespace) -> uvicorn.Config:
    return uvicorn.Config(
        args.app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        ws_per_message_deflate=args.ws_per_message_deflate == "true",
        ws=BoundedWSProtocol if args.ws == "wsproto" else "websockets",
        ws_max_size=args.ws_max_size,
        backlog=args.backlog,
    )


def main(argv: list[str] | None = None) -> None:
    config = config_from(parse_args(argv))
    metrics_dir_reset()
    if config.workers <= 1:
        try:
            OwnSocketWorker(config)()
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise SystemExit(f"{config.host}:{config.port} is already in use (another server on it? a second `make run`?)") from None
        return
    PatientMultiprocess(config, target=OwnSocketWorker(config), sockets=[]).run()


if __name__ == "__main__":
    main()
