"""Blob stores addressed by sha256 (local disk or S3-compatible) and streaming upload ingest."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Protocol, Self, cast
from urllib.parse import quote

from ledger.errors import NotFound, TooLarge
from ledger.files.sniff import HEAD_SIZE

if TYPE_CHECKING:
    from types import TracebackType

_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_S3_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


class BlobNotFound(NotFound):
    """No blob is stored under the requested sha256."""

    kind = "not_found"
    code = "files.not_found"
    message = "文件不存在"


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a lowercase hex sha256 digest (the only accepted blob address)."""
    return isinstance(value, str) and _SHA256_RE.fullmatch(value) is not None


def _require_sha256(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    return sha256


def content_disposition(filename: str | None) -> str:
    """Content-Disposition for a download: ``attachment`` with an RFC 6266 name, else inline."""
    if not filename:
        return "inline"
    # Old clients only read the plain ``filename``; Chinese names go in ``filename*``.
    fallback = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class BlobStore(Protocol):
    """Immutable, deduplicated file storage keyed by the sha256 of the content."""

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        ...

    def put_file(self, path: Path, sha256: str, content_type: str) -> bool:
        """Move an already-hashed file into the store; True if the blob was new.

        On success ``path`` is consumed; on failure it is left for the caller to discard.
        """
        ...

    def put_bytes(self, data: bytes, content_type: str) -> str:
        """Store small in-memory content; returns its sha256."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """Streaming reader for the blob; raises ``BlobNotFound``."""
        ...

    def size(self, sha256: str) -> int:
        """Size in bytes; raises ``BlobNotFound``."""
        ...

    def download_url(
        self, sha256: str, *, filename: str | None, content_type: str, expires: int = 600
    ) -> str | None:
        """Time-limited direct URL, or None when the server must stream the blob itself."""
        ...

    def check(self) -> None:
        """Health check: raise if the store cannot be used."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove the blob; missing blobs are ignored."""
        ...


class LocalBlobStore:
    """Blobs as files under ``root/ab/cd/<sha256>``, staged in ``root/tmp``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        """Where the blob lives (whether or not it exists); useful for X-Sendfile style serving."""
        _require_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return is_sha256(sha256) and self.path_for(sha256).is_file()

    def put_file(self, path: Path, sha256: str, content_type: str) -> bool:
        dest = self.path_for(sha256)
        path = Path(path)
        if dest.is_file():
            path.unlink(missing_ok=True)
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        staged = self._stage(path)
        try:
            created = self._link_into_place(staged, dest)
        finally:
            staged.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        return created

    def _stage(self, path: Path) -> Path:
        """A private, fsynced link-or-copy of ``path`` on the store's own filesystem."""
        staged = self.tmp_dir / f"stage-{uuid.uuid4().hex}"
        try:
            # Linking avoids copying big uploads when the temp dir shares our filesystem.
            os.link(path, staged)
        except FileNotFoundError:
            raise
        except OSError:
            shutil.copyfile(path, staged)
        try:
            with open(staged, "rb") as fh:
                os.fsync(fh.fileno())
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return staged

    @staticmethod
    def _link_into_place(staged: Path, dest: Path) -> bool:
        # link() fails if dest exists, so concurrent writers of the same content agree on
        # exactly one winner and nobody ever sees a partially written blob.
        try:
            os.link(staged, dest)
        except FileExistsError:
            return False
        except OSError:
            # Filesystems without hard links: an atomic replace is still safe because the
            # content is identical; we just cannot tell who was first.
            if dest.is_file():
                return False
            os.replace(staged, dest)
        return True

    def put_bytes(self, data: bytes, content_type: str) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return sha256
        with tempfile.NamedTemporaryFile(dir=self.tmp_dir, prefix="bytes-", delete=False) as fh:
            fh.write(data)
        try:
            self.put_file(Path(fh.name), sha256, content_type)
        finally:
            Path(fh.name).unlink(missing_ok=True)
        return sha256

    def open(self, sha256: str) -> BinaryIO:
        if not is_sha256(sha256):
            raise BlobNotFound(details={"sha256": sha256})
        try:
            return open(self.path_for(sha256), "rb")
        except FileNotFoundError:
            raise BlobNotFound(details={"sha256": sha256}) from None

    def size(self, sha256: str) -> int:
        if not is_sha256(sha256):
            raise BlobNotFound(details={"sha256": sha256})
        try:
            return self.path_for(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(details={"sha256": sha256}) from None

    def download_url(
        self, sha256: str, *, filename: str | None, content_type: str, expires: int = 600
    ) -> str | None:
        return None

    def check(self) -> None:
        # Proves the directory is writable, not merely present (full or read-only disks).
        with tempfile.NamedTemporaryFile(dir=self.tmp_dir, prefix="health-") as fh:
            fh.write(b"ok")
            fh.flush()

    def delete(self, sha256: str) -> None:
        # Empty shard directories are kept: removing them could race with a concurrent put.
        self.path_for(sha256).unlink(missing_ok=True)


def _s3_error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    """Blobs as objects ``<prefix><sha256>`` in an S3-compatible bucket (AWS, MinIO, OSS, COS)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        prefix: str = "blobs/",
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        if client is None:
            # Imported lazily so deployments on local disk do not need boto3 at all.
            import boto3
            from botocore.config import Config

            config = Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                # Newer botocore adds CRC checksums to every upload by default, which
                # several S3-compatible services reject; only send them when required.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            client = boto3.client(
                "s3", endpoint_url=endpoint_url, region_name=region_name, config=config
            )
        self.client = client

    def key_for(self, sha256: str) -> str:
        return f"{self.prefix}{_require_sha256(sha256)}"

    def _head(self, sha256: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as exc:
            if _s3_error_code(exc) in _S3_MISSING:
                return None
            raise

    def exists(self, sha256: str) -> bool:
        return is_sha256(sha256) and self._head(sha256) is not None

    def put_file(self, path: Path, sha256: str, content_type: str) -> bool:
        key = self.key_for(sha256)
        path = Path(path)
        # Concurrent uploads of the same content may both get past this check; that is
        # harmless because they write identical bytes to the same key.
        if self._head(sha256) is not None:
            path.unlink(missing_ok=True)
            return False
        self.client.upload_file(
            str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}
        )
        path.unlink(missing_ok=True)
        return True

    def put_bytes(self, data: bytes, content_type: str) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self._head(sha256) is None:
            self.client.put_object(
                Bucket=self.bucket, Key=self.key_for(sha256), Body=data, ContentType=content_type
            )
        return sha256

    def open(self, sha256: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        if not is_sha256(sha256):
            raise BlobNotFound(details={"sha256": sha256})
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as exc:
            if _s3_error_code(exc) in _S3_MISSING:
                raise BlobNotFound(details={"sha256": sha256}) from None
            raise
        return cast(BinaryIO, response["Body"])

    def size(self, sha256: str) -> int:
        head = self._head(sha256) if is_sha256(sha256) else None
        if head is None:
            raise BlobNotFound(details={"sha256": sha256})
        return int(head["ContentLength"])

    def download_url(
        self, sha256: str, *, filename: str | None, content_type: str, expires: int = 600
    ) -> str | None:
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.key_for(sha256),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(filename),
            },
            ExpiresIn=expires,
        )

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key_for(sha256))

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet (first run, tests)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _s3_error_code(exc) not in _S3_MISSING:
                raise
        region = self.client.meta.region_name
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        # us-east-1 is the one region that rejects an explicit LocationConstraint.
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as exc:
            if _s3_error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise


@dataclass
class IngestResult:
    """An upload spooled to a temp file: where it is, its sha256, size and first bytes."""

    path: Path
    sha256: str
    size: int
    head: bytes

    def discard(self) -> None:
        """Remove the temp file if the store has not already consumed it."""
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()


def _human_size(num_bytes: int) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{num_bytes} 字节"


def _too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        f"文件太大（最大 {_human_size(max_bytes)}），请压缩后重新上传",
        details={"max_bytes": max_bytes},
    )


def ingest_stream(
    stream: IO[bytes] | BinaryIO, tmp_dir: Path, *, max_bytes: int, chunk_size: int = 1 << 20
) -> IngestResult:
    """Spool ``stream`` to a temp file in ``tmp_dir`` chunk by chunk, hashing as it goes.

    Raises ``TooLarge`` (leaving no temp file) as soon as more than ``max_bytes`` arrive.
    """
    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    head = bytearray()
    size = 0
    with tempfile.NamedTemporaryFile(
        dir=tmp_dir, prefix="upload-", suffix=".part", delete=False
    ) as tmp:
        path = Path(tmp.name)
        try:
            while chunk := stream.read(chunk_size):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                if len(head) < HEAD_SIZE:
                    head += chunk[: HEAD_SIZE - len(head)]
                hasher.update(chunk)
                tmp.write(chunk)
        except BaseException:
            tmp.close()
            path.unlink(missing_ok=True)
            raise
    return IngestResult(path=path, sha256=hasher.hexdigest(), size=size, head=bytes(head))


def make_blobstore(
    kind: str,
    *,
    data_dir: Path,
    bucket: str | None = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
) -> BlobStore:
    """Blob store from configuration: ``"local"`` (under ``data_dir/blobs``) or ``"s3"``."""
    normalised = (kind or "").strip().lower()
    if normalised == "local":
        return LocalBlobStore(Path(data_dir) / "blobs")
    if normalised == "s3":
        if not bucket:
            raise ValueError("the s3 blob store needs a bucket name; set the S3 bucket setting")
        return S3BlobStore(bucket, endpoint_url=endpoint_url, region_name=region_name)
    raise ValueError(f"unknown blob store kind {kind!r}; expected 'local' or 's3'")


__all__ = [
    "BlobNotFound",
    "BlobStore",
    "IngestResult",
    "LocalBlobStore",
    "S3BlobStore",
    "content_disposition",
    "ingest_stream",
    "is_sha256",
    "make_blobstore",
]
