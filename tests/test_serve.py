"""`python -m server.serve`: uvicorn workers, each with a listening socket of its own.

What must hold: every worker listens on the port with its own socket and the supervisor with
none (a connection hashed to a socket nobody accepts would hang); both workers serve; a
worker that dies is replaced; SIGTERM stops them all. Run as a real process tree, as the
deployment runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.serve import config_from, parse_args

pytestmark = [
    pytest.mark.usefixtures("uvicorn_logging_kept"),
    pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balancing is Linux's"),
    pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2) to see the sockets"),
]

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listeners(port: int) -> list[int]:
    """Pids of the processes holding a listening socket on `port`, one entry per socket."""
    output = subprocess.run(["ss", "-tlnpH", f"( sport = :{port} )"], capture_output=True, text=True, check=True).stdout
    return sorted(int(pid) for pid in re.findall(r"pid=(\d+)", output))


def _children(pid: int) -> list[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    workers = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(int(child))
        except OSError:  # ended meanwhile
            continue
    return sorted(workers)


def _wait(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "server.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "REDIS_URL": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "server.serve", "--port", str(port), "--workers", "2", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT,
        env=environment,
    )
    try:
        _wait(lambda: len(_listeners(port)) == 2, what="two listening workers")
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_each_worker_listens_with_its_own_socket_and_the_supervisor_with_none(served):
    process, port = served
    workers = _children(process.pid)
    assert len(workers) == 2
    assert _listeners(port) == workers  # two sockets, one per worker; none held by the supervisor


def test_both_workers_serve_and_connections_spread_over_them(served):
    process, port = served
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(32)]
    try:
        for client in clients:
            assert client.get("/healthz").json() == {"status": "ok"}  # keep-alive: the connection stays open
        output = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, check=True
        ).stdout
        serving = {int(pid) for pid in re.findall(r"pid=(\d+)", output)}
    finally:
        for client in clients:
            client.close()
    # 32 connections hashed over two sockets all on one: a chance of 2 in 2**32.
    assert serving == set(_children(process.pid))


def test_a_dead_worker_is_replaced_and_sigterm_stops_them_all(served):
    process, port = served
    first, second = _children(process.pid)
    os.kill(first, signal.SIGKILL)
    _wait(lambda: len(_listeners(port)) == 2 and first not in _listeners(port), what="a replacement worker")
    assert second in _children(process.pid)
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    workers = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert _listeners(port) == []
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_port_zero_is_refused():
    # Every worker would bind a port of its own.
    with pytest.raises(SystemExit):
        parse_args(["--port", "0"])
    assert parse_args(["--port", "8000", "--workers", "3"]).workers == 3


def test_the_deployment_flags_reach_uvicorn():
    flags = ["--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--proxy-headers", "--forwarded-allow-ips", "10.0.0.1"]
    flags.append("--no-access-log")
    config = config_from(parse_args(flags))
    assert (config.host, config.port, config.workers) == ("0.0.0.0", 8000, 4)
    assert config.proxy_headers is True and config.forwarded_allow_ips == "10.0.0.1"
    assert config.access_log is False
    assert config.ws_per_message_deflate is False  # off unless asked for (issue #10: ~141 KiB a socket)
    assert config_from(parse_args([])).proxy_headers is False


def test_trusting_every_peers_forwarded_header_is_refused():
    # uvicorn would take the client address from anyone's X-Forwarded-For (issue #25 item 2).
    with pytest.raises(SystemExit):
        parse_args(["--proxy-headers", "--forwarded-allow-ips", "*"])


def test_a_worker_slow_to_answer_the_supervisor_is_kept_a_silent_one_replaced(monkeypatch):
    """uvicorn's supervisor killed a worker that took over 5 s to answer its ping: a starved
    worker in a reconnect storm, whose sockets then all reconnected at once (issue #26)."""
    import threading

    from uvicorn.supervisors import Multiprocess

    from server import serve

    class Worker:
        def __init__(self, answers_within: float | None) -> None:
            self.answers_within, self.killed, self.pid = answers_within, False, 0

        def is_alive(self, timeout: float = 5) -> bool:
            return self.answers_within is not None and self.answers_within <= timeout

        def kill(self) -> None:
            self.killed = True

        def join(self) -> None:
            pass

    started = []

    class Replacement(Worker):
        def __init__(self, *_args) -> None:
            super().__init__(0.1)

        def start(self) -> None:
            started.append(self)

    monkeypatch.setattr(serve, "Process", Replacement)
    monkeypatch.setattr("uvicorn.supervisors.multiprocess.Process", Replacement)

    def supervisor(kind):
        instance = object.__new__(kind)  # no signal handlers installed in the test process
        instance.config, instance.target, instance.sockets = None, None, []
        instance.should_exit = threading.Event()
        instance.processes = [Worker(0.1), Worker(12.0), Worker(None)]
        return instance

    stock = supervisor(Multiprocess)
    slow = stock.processes[1]
    stock.keep_subprocess_alive()
    assert slow.killed and len(started) == 2  # uvicorn's own: the slow worker too

    started.clear()
    patient = supervisor(serve.PatientMultiprocess)
    slow, silent = patient.processes[1], patient.processes[2]
    patient.keep_subprocess_alive()
    assert not slow.killed and patient.processes[1] is slow
    assert silent.killed and patient.processes[2] is started[0] and len(started) == 1


def test_one_process_alone_binds_its_port_exclusively(monkeypatch):
    """`make run` (`--workers 1`): a second server on the same port fails with "address in use"
    instead of silently sharing it (SO_REUSEPORT is for the workers of one supervisor)."""
    from server import serve

    bound = []
    monkeypatch.setattr(serve, "bind_reuseport", lambda *args, **kwargs: bound.append(kwargs) or socket.socket())
    monkeypatch.setattr(serve.uvicorn.Server, "run", lambda self, sockets=None: None)
    serve.OwnSocketWorker(config_from(parse_args(["--workers", "1"])))()
    serve.OwnSocketWorker(config_from(parse_args(["--workers", "2"])))()
    assert bound == [{"reuseport": False}, {"reuseport": True}]

    monkeypatch.undo()
    alone = serve.bind_reuseport("127.0.0.1", 0, 8, reuseport=False)
    try:
        with pytest.raises(OSError):
            serve.bind_reuseport("127.0.0.1", alone.getsockname()[1], 8)
    finally:
        alone.close()


def test_a_second_lone_server_on_a_port_in_use_says_so_in_one_line():
    from server import serve

    taken = serve.bind_reuseport("127.0.0.1", 0, 8, reuseport=False)
    try:
        with pytest.raises(SystemExit, match="already in use"):
            serve.main(["--workers", "1", "--port", str(taken.getsockname()[1]), "--log-level", "warning"])
    finally:
        taken.close()
