"""Model files: Whisper assembly from PyPI parts with sha256, Vosk lookup and download."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from speech import models
from speech.engine import EngineError
from speech.models import (
    WhisperSource,
    download_vosk_model,
    vosk_model_language,
    vosk_model_path,
    vosk_supports_runtime_vocabulary,
    whisper_model_dir,
)


def test_base_is_assembled_once_and_verified(tmp_path):
    target = whisper_model_dir("base", tmp_path)
    source = models.WHISPER_SOURCES["base"][0]
    assert target == tmp_path / source.name
    assert (target / "model.bin").stat().st_size == source.nbytes
    assert (target / "model.bin.sha256").read_text().strip() == source.sha256
    for name in ("config.json", "tokenizer.json"):
        assert (target / name).is_file()
    stamp = (target / "model.bin").stat().st_mtime_ns
    assert whisper_model_dir("base", tmp_path) == target
    assert (target / "model.bin").stat().st_mtime_ns == stamp
    # A model directory can be named directly too.
    assert whisper_model_dir(str(target)) == target


def _fake_source(tmp_path, monkeypatch, sha: str | None = None) -> WhisperSource:
    pkg = tmp_path / "site" / "fake_whisper_parts"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "model.bin.part1").write_bytes(b"abc")
    (pkg / "data" / "model.bin.part2").write_bytes(b"def")
    (pkg / "data" / "config.json").write_text("{}")
    (pkg / "data" / "tokenizer.json").write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    source = WhisperSource(
        name="fake-whisper",
        size="fake",
        pip=("fake-whisper-parts==1",),
        parts=(
            ("fake_whisper_parts", "data/model.bin.part1"),
            ("fake_whisper_parts", "data/model.bin.part2"),
        ),
        sha256=sha or hashlib.sha256(b"abcdef").hexdigest(),
        nbytes=6,
        upstream="test",
    )
    monkeypatch.setitem(models.WHISPER_SOURCES, "fake", (source,))
    return source


def test_assembly_concatenates_parts_in_order(tmp_path, monkeypatch):
    _fake_source(tmp_path, monkeypatch)
    target = whisper_model_dir("fake", tmp_path / "cache")
    assert (target / "model.bin").read_bytes() == b"abcdef"


def test_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    _fake_source(tmp_path, monkeypatch, sha="0" * 64)
    with pytest.raises(EngineError) as exc:
        whisper_model_dir("fake", tmp_path / "cache")
    assert exc.value.code == "speech.model_corrupt"
    assert not (tmp_path / "cache" / "fake-whisper" / "model.bin").exists()
    assert not list((tmp_path / "cache" / "fake-whisper").glob("model.bin.tmp-*"))


def test_small_is_not_available_from_pypi(tmp_path):
    with pytest.raises(EngineError) as exc:
        whisper_model_dir("small", tmp_path)
    assert exc.value.code == "speech.model_missing"
    assert "only the first 2 parts" in exc.value.detail


def test_incomplete_model_dir(tmp_path):
    with pytest.raises(EngineError) as exc:
        whisper_model_dir(str(tmp_path))
    assert exc.value.code == "speech.model_missing"


def test_vosk_model_path_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("WANGGE_VOSK_MODEL", raising=False)
    with pytest.raises(EngineError) as exc:
        vosk_model_path()
    assert exc.value.code == "speech.model_missing"
    with pytest.raises(EngineError):
        vosk_model_path(tmp_path / "missing")


def _fake_vosk_tree(root: Path, name: str) -> None:
    for rel in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "conf/model.conf"):
        (root / name / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / name / rel).write_bytes(b"x")
    (root / name / "README").write_text("Chinese Vosk model for tests\n")


def test_vosk_model_facts_from_files(tmp_path, monkeypatch):
    monkeypatch.delenv("WANGGE_VOSK_LANG", raising=False)
    _fake_vosk_tree(tmp_path, "vosk-model-small-cn-0.22")
    # The directory an archive was unpacked into is accepted as well as the model itself.
    assert vosk_model_path(tmp_path) == (tmp_path / "vosk-model-small-cn-0.22").resolve()
    assert vosk_model_language(tmp_path) == "zh"
    assert vosk_supports_runtime_vocabulary(tmp_path)
    monkeypatch.setenv("WANGGE_VOSK_LANG", "ko")
    assert vosk_model_language(tmp_path) == "ko"


def _zip_of_model(name: str, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for rel in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "conf/model.conf"):
            archive.writestr(f"{name}/{rel}", b"x")
        archive.writestr(f"{name}/README", "Chinese model\n")
        for rel, data in (extra or {}).items():
            archive.writestr(rel, data)
    return buf.getvalue()


@pytest.fixture
def zip_server():
    """A loopback HTTP server; set .files[path] = bytes before requesting."""

    class Handler(http.server.BaseHTTPRequestHandler):
        files: dict[str, bytes] = {}

        def do_GET(self):
            data = self.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.files = Handler.files
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}/vosk/models/"
    yield server
    server.shutdown()
    server.server_close()


def test_download_verifies_and_unpacks(tmp_path, zip_server):
    name = "vosk-model-small-cn-0.22"
    data = _zip_of_model(name)
    zip_server.files[f"/vosk/models/{name}.zip"] = data
    sha = hashlib.sha256(data).hexdigest()
    path = download_vosk_model(
        name, tmp_path, timeout=5, base_url=zip_server.base_url, expected_sha256=sha
    )
    assert path == (tmp_path / name).resolve()
    assert (path / "am" / "final.mdl").is_file()
    assert (tmp_path / f"{name}.zip.sha256").read_text().startswith(sha)
    # Present already: no second download.
    zip_server.files.clear()
    assert download_vosk_model(name, tmp_path, base_url=zip_server.base_url) == path


def test_download_checks_the_recorded_md5_and_size(tmp_path, zip_server):
    name = "vosk-model-small-cn-0.22"
    zip_server.files[f"/vosk/models/{name}.zip"] = _zip_of_model(name)
    with pytest.raises(EngineError) as exc:
        download_vosk_model(name, tmp_path, timeout=5, base_url=zip_server.base_url)
    assert exc.value.code == "speech.model_corrupt"
    assert "md5" in exc.value.detail and "size" in exc.value.detail
    assert not (tmp_path / name).exists()


def test_download_refuses_a_wrong_checksum_and_path_escapes(tmp_path, zip_server):
    name = "vosk-model-cn-0.22"
    zip_server.files[f"/vosk/models/{name}.zip"] = _zip_of_model(name)
    with pytest.raises(EngineError) as exc:
        download_vosk_model(
            name, tmp_path, timeout=5, base_url=zip_server.base_url, expected_sha256="0" * 64
        )
    assert exc.value.code == "speech.model_corrupt"
    evil = _zip_of_model(name, {"../../escape.txt": b"x"})
    zip_server.files[f"/vosk/models/{name}.zip"] = evil
    with pytest.raises(EngineError) as exc:
        download_vosk_model(name, tmp_path, timeout=5, base_url=zip_server.base_url)
    assert exc.value.code == "speech.model_corrupt"
    assert not (tmp_path.parent / "escape.txt").exists()


def test_download_offline_gives_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on that port: the same failure an offline server gets, without traffic.
    with pytest.raises(EngineError) as exc:
        download_vosk_model(
            "vosk-model-small-cn-0.22", tmp_path, timeout=3, base_url=f"http://127.0.0.1:{port}/"
        )
    assert exc.value.code == "speech.model_download_failed"
    assert "无法下载语音模型" in exc.value.message_zh
    assert "vosk-model-small-cn-0.22.zip" in exc.value.detail


def test_download_unknown_model(tmp_path):
    with pytest.raises(EngineError) as exc:
        download_vosk_model("vosk-model-small-en-us-0.15", tmp_path)
    assert exc.value.code == "speech.model_unknown"
