"""Helpers the benchmarks share: a gunicorn of the app on loopback, and CPU accounting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen:
    """``python -m gunicorn <args> wsgi:app`` in the project root, logging to ``log_path``."""
    log_file = log_path.open("ab")
    try:
        # A session of its own, so a last-resort kill reaches exactly its workers.
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *args, "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log_file.close()


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_healthy(base: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail}")
        try:
            if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn not healthy after {timeout:.0f}s")


def group_cpu_seconds(pgid: int | None) -> float | None:
    """User+system CPU of every live process in group ``pgid`` (gunicorn), from /proc."""
    if pgid is None:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process went away
            # After "pid (comm)": state ppid pgrp ... utime (14th field) stime (15th).
            if int(fields[2]) == pgid:
                total += int(fields[11]) + int(fields[12])
    except OSError:
        return None
    return total / ticks
