"""Shared checks for the OCR engine tests: fixtures, text matching, latency and network guard."""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ocr.engine import OcrEngine, OcrResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ocr"
ID_FRONTS = sorted(FIXTURES.glob("*_id_card_front.jpg"))


def truth(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def load(path: Path, *, upright: bool = False) -> np.ndarray:
    """The fixture as BGR; ``upright`` turns upside-down photos back, as the pipeline must."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    if upright and truth(path).get("degradations", {}).get("upside_down"):
        image = cv2.rotate(image, cv2.ROTATE_180)
    return np.ascontiguousarray(image)


def text_of(result: OcrResult) -> str:
    """All recognised text with whitespace dropped: engines split or space lines differently."""
    return "".join("".join(line.text.split()) for line in result.lines)


def check_result_shape(result: OcrResult) -> None:
    assert result.lines
    for line in result.lines:
        assert line.text == line.text.strip() and line.text
        assert len(line.box) == 4 and all(len(p) == 2 for p in line.box)
        assert all(isinstance(v, float) for p in line.box for v in p)
        assert 0.0 <= line.confidence <= 1.0
    assert result.timing_ms.get("engine", 0) > 0


def warm_latency_ms(engine: OcrEngine, image: np.ndarray, runs: int = 3) -> float:
    """Median wall time of ``runs`` calls after one untimed call."""
    engine.recognize(image)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.recognize(image)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def concurrent_texts(engine: OcrEngine, image: np.ndarray, threads: int = 2) -> list[str]:
    """Texts read by ``threads`` simultaneous calls on the same engine."""
    barrier = threading.Barrier(threads)
    out: list[str | BaseException] = [""] * threads

    def work(i: int) -> None:
        barrier.wait()
        try:
            out[i] = text_of(engine.recognize(image))
        except BaseException as exc:  # noqa: BLE001 - handed back to the test thread
            out[i] = exc

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    for item in out:
        if isinstance(item, BaseException):
            raise item
    return [str(t) for t in out]


@contextlib.contextmanager
def no_network() -> Iterator[list[str]]:
    """Refuse and record every DNS lookup and socket connect made inside the block."""
    attempts: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def refuse(what: str):
        def _refused(*args, **kwargs):
            attempts.append(f"{what} {args[1:] if what == 'connect' else args[:2]}")
            raise OSError(f"network disabled in this test: {what}")

        return _refused

    def getaddrinfo(host, *args, **kwargs):
        # Local names are not the network; paddle and friends may resolve them harmlessly.
        if host in (None, "localhost", "127.0.0.1", "::1"):
            return real_getaddrinfo(host, *args, **kwargs)
        return refuse("getaddrinfo")(host, *args, **kwargs)

    saved = (socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo)
    socket.socket.connect = refuse("connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse("connect")  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = saved
