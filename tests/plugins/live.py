"""Real servers on loopback for tests that need real sockets: werkzeug threaded, and gunicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class LiveServer:
    """An app served over a real loopback socket by werkzeug's threaded server."""

    def __init__(self, app) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.ws_base = f"ws://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """The production server, gunicorn.conf.py (gthread workers), as a real child process."""

    def __init__(self, config: dict, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"
        full_env = {
            **os.environ,
            "WANGGE_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "WANGGE_OCR_PRELOAD": "0",
            "WANGGE_SPEECH_PRELOAD": "0",
            "WANGGE_ACCESS_LOG": "/dev/null",
            **env,
        }
        for key in ("DATA_DIR", "DATABASE_URL", "SECRET_KEY", "PII_KEY"):
            full_env[f"WANGGE_{key}"] = str(config[key])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    pytest.fail(self.proc.stderr.read().decode()[-2000:])
                time.sleep(0.2)
        self.kill()
        pytest.fail("gunicorn did not start within 60 s")

    def kill(self) -> None:
        """SIGKILL the whole process group: master and workers die at once, mid-request."""
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
