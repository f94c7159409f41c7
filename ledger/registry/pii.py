"""Encryption at rest and blind indexes for residents' personal data (AES-256-GCM, HMAC)."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from typing import NoReturn, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["PiiCipher", "PiiDecryptError", "generate_key"]

KEY_BYTES = 32
VERSION = 0x01
NONCE_BYTES = 12
TAG_BYTES = 16

_INFO_ENC = b"wangge-pii-enc-v1"
_INFO_BIDX = b"wangge-pii-bidx-v1"
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")

# Deliberately says nothing about the supplied value: it may be (part of) the real key.
_BAD_KEY = "PII master key must be 32 raw bytes, 64 hex characters or URL-safe base64 of 32 bytes"


class PiiDecryptError(ValueError):
    """The blob is not one we wrote with this key for this field, or it was tampered with."""


def _parse_key(master_key: bytes | str) -> bytes:
    if isinstance(master_key, bytes | bytearray | memoryview):
        key = bytes(master_key)
        if len(key) != KEY_BYTES:
            raise ValueError(_BAD_KEY)
        return key
    if not isinstance(master_key, str):
        raise TypeError("PII master key must be bytes or str")

    # Keys usually come from environment variables or files, which add stray newlines.
    text = master_key.strip()
    if len(text) == 2 * KEY_BYTES and set(text) <= _HEX_DIGITS:
        return bytes.fromhex(text)
    # Padding is optional so keys survive tools that trim "=" from the end.
    text = text.rstrip("=")
    try:
        # validate=True rejects stray characters that the lenient decoder would skip.
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(_BAD_KEY) from None
    if len(key) != KEY_BYTES:
        raise ValueError(_BAD_KEY)
    return key


def _derive(master: bytes, info: bytes) -> bytes:
    # The master key is already uniformly random, so HKDF's default all-zero salt suffices;
    # distinct info strings make the two subkeys independent of each other.
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


def _field_bytes(field: str) -> bytes:
    # A NUL in the field name would make "field\x00value" ambiguous in the blind index.
    if not isinstance(field, str) or not field or "\x00" in field:
        raise ValueError("field must be a non-empty string without NUL characters")
    return field.encode("utf-8")


class PiiCipher:
    """Encrypts personal data per field and computes blind indexes for exact-match lookup.

    The field name is bound into both operations, so a value copied into another column
    neither decrypts nor matches that column's index.
    """

    __slots__ = ("_aead", "_bidx_key")

    def __init__(self, master_key: bytes | str) -> None:
        master = _parse_key(master_key)
        self._aead = AESGCM(_derive(master, _INFO_ENC))
        self._bidx_key = _derive(master, _INFO_BIDX)

    def __repr__(self) -> str:
        return "PiiCipher(<redacted>)"

    def __reduce__(self) -> NoReturn:
        # Pickling would write the subkeys into caches, task queues or crash dumps.
        raise TypeError("PiiCipher cannot be pickled")

    @overload
    def encrypt(self, plaintext: None, *, field: str) -> None: ...
    @overload
    def encrypt(self, plaintext: str, *, field: str) -> bytes: ...

    def encrypt(self, plaintext: str | None, *, field: str) -> bytes | None:
        """Encrypt ``plaintext`` for column ``field``: version byte + nonce + ciphertext+tag."""
        if plaintext is None:
            return None
        if not isinstance(plaintext, str):
            raise TypeError("plaintext must be str or None")
        aad = _field_bytes(field)
        # Random 96-bit nonces are safe for far more than 2**32 messages per subkey.
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), aad)
        return bytes((VERSION,)) + nonce + sealed

    @overload
    def decrypt(self, blob: None, *, field: str) -> None: ...
    @overload
    def decrypt(self, blob: bytes, *, field: str) -> str: ...

    def decrypt(self, blob: bytes | None, *, field: str) -> str | None:
        """Decrypt a blob from ``encrypt`` for the same ``field``; raise ``PiiDecryptError``."""
        if blob is None:
            return None
        aad = _field_bytes(field)
        # PostgreSQL drivers hand bytea back as memoryview.
        data = bytes(blob)
        if len(data) < 1 + NONCE_BYTES + TAG_BYTES or data[0] != VERSION:
            raise PiiDecryptError("unsupported or truncated PII ciphertext")
        nonce, sealed = data[1 : 1 + NONCE_BYTES], data[1 + NONCE_BYTES :]
        try:
            plaintext = self._aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise PiiDecryptError("PII ciphertext failed authentication") from None
        return plaintext.decode("utf-8")

    @overload
    def blind_index(self, value: None, *, field: str) -> None: ...
    @overload
    def blind_index(self, value: str, *, field: str) -> str: ...

    def blind_index(self, value: str | None, *, field: str) -> str | None:
        """Return a keyed 64-hex-digit digest of an already normalised ``value`` for ``field``."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError("value must be str or None")
        message = _field_bytes(field) + b"\x00" + value.encode("utf-8")
        return hmac.digest(self._bidx_key, message, "sha256").hex()


def generate_key() -> str:
    """Return a fresh random master key as URL-safe base64 (without "=" padding)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii").rstrip("=")
