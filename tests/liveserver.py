"""Real servers for tests: ``docframe`` commands and gunicorn as subprocesses on a free loopback port.

A server runs in its own process group (so gunicorn's workers stop with it), writes
its output to a log file, and is waited for by polling ``/api/method/ping``. When it
does not come up, the error carries its output; while it runs, :func:`log_on_failure`
adds its latest output to the report of every failed test using its fixture.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCFRAME = (sys.executable, "-m", "engine.cli")  # the console script, without relying on PATH
READY_PATH = "/api/method/ping"
LOG_TAIL_LINES = 80


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def docframe(*args: str, cwd: Path | None = None, timeout: float = 120) -> str:
    """Run the ``docframe`` CLI (as ``python -m engine.cli``); its stdout, or an AssertionError with stderr."""
    proc = subprocess.run([*DOCFRAME, *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)
    assert proc.returncode == 0, f"docframe {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def gunicorn_command(port: int, workers: int = 2, app: str = "engine.web:create_app()",
                     extra: Sequence[str] = ()) -> list[str]:
    """``gunicorn APP -w N`` bound to 127.0.0.1:port (without gunicorn 27's control socket in ~/.gunicorn)."""
    from gunicorn.config import KNOWN_SETTINGS

    cmd = [sys.executable, "-m", "gunicorn", app, "-w", str(workers), "-b", f"127.0.0.1:{port}", *extra]
    if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
        cmd.append("--no-control-socket")
    return cmd


@dataclass
class LiveServer:
    """A running server process and the file its stdout and stderr go to."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self, tail: int | None = LOG_TAIL_LINES) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-tail:]) if tail else text

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL after 10 s."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + READY_PATH, timeout=2) as answer:
            return bool(json.load(answer) == {"message": "pong"})
    except (OSError, ValueError):
        return False


def start(name: str, cmd: Sequence[str], port: int, log: Path, *, env: Mapping[str, str] | None = None,
          cwd: Path | None = None, timeout: float = 60) -> LiveServer:
    """Start ``cmd`` (which serves on ``port``) and wait until it answers ping; fail with its output if not."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
    server = LiveServer(name, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while not _ready(server.url):
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode}:\n{server.output(None)}")
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} did not answer {READY_PATH} within {timeout:.0f} s:\n{server.output()}")
        time.sleep(0.1)
    return server


@contextmanager
def serving(name: str, cmd: Sequence[str], port: int, log: Path, **kwargs: object) -> Iterator[LiveServer]:
    """:func:`start`, then stop the process group however the block ends."""
    server = start(name, cmd, port, log, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


class LogOnFailure:
    """A pytest plugin, registered while a server runs: failed tests using its fixture show its output."""

    def __init__(self, server: LiveServer, fixture: str):
        self.server = server
        self.fixture = fixture

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()  # type: ignore[attr-defined]
        if report.failed and self.fixture in getattr(item, "fixturenames", ()):
            report.sections.append((f"{self.server.name} output (last {LOG_TAIL_LINES} lines)",
                                    self.server.output()))


@contextmanager
def log_on_failure(config: pytest.Config, server: LiveServer, fixture: str) -> Iterator[None]:
    """Show ``server``'s output in the report of every failed test that uses ``fixture``."""
    plugin = LogOnFailure(server, fixture)
    config.pluginmanager.register(plugin)
    try:
        yield
    finally:
        config.pluginmanager.unregister(plugin)
