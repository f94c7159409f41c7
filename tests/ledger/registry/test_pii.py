"""Tests for field-level encryption and blind indexes of personal data."""

from __future__ import annotations

import base64
import pickle

import pytest

from ledger.registry.pii import PiiCipher, PiiDecryptError, generate_key

RAW_KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture
def cipher() -> PiiCipher:
    return PiiCipher(RAW_KEY)


# --- encryption ---------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", ["11010519491231002X", "张三", "", "北京市东城区 1号楼 🏠"])
def test_round_trip(cipher: PiiCipher, plaintext: str) -> None:
    blob = cipher.encrypt(plaintext, field="id_number")
    assert isinstance(blob, bytes)
    assert cipher.decrypt(blob, field="id_number") == plaintext


def test_blob_layout(cipher: PiiCipher) -> None:
    plaintext = "13812345678"
    blob = cipher.encrypt(plaintext, field="phone")
    # version byte + 12-byte nonce + ciphertext of the same length + 16-byte tag
    assert blob[0] == 0x01
    assert len(blob) == 1 + 12 + len(plaintext.encode()) + 16


def test_none_passes_through(cipher: PiiCipher) -> None:
    assert cipher.encrypt(None, field="phone") is None
    assert cipher.decrypt(None, field="phone") is None
    assert cipher.blind_index(None, field="phone") is None


def test_ciphertext_differs_each_time(cipher: PiiCipher) -> None:
    blobs = {cipher.encrypt("11010519491231002X", field="id_number") for _ in range(20)}
    assert len(blobs) == 20
    assert len({blob[1:13] for blob in blobs}) == 20  # fresh nonce every time


def test_plaintext_does_not_appear_in_ciphertext(cipher: PiiCipher) -> None:
    for plaintext in ["11010519491231002X", "张三丰", "13812345678"]:
        blob = cipher.encrypt(plaintext, field="id_number")
        assert plaintext.encode("utf-8") not in blob
        assert plaintext.encode("utf-8")[:6] not in blob


def test_wrong_field_fails_to_decrypt(cipher: PiiCipher) -> None:
    blob = cipher.encrypt("11010519491231002X", field="id_number")
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(blob, field="phone")


def test_wrong_key_fails_to_decrypt(cipher: PiiCipher) -> None:
    blob = cipher.encrypt("11010519491231002X", field="id_number")
    with pytest.raises(PiiDecryptError):
        PiiCipher(OTHER_KEY).decrypt(blob, field="id_number")


@pytest.mark.parametrize("position", [1, 12, 13, -1])  # nonce, nonce end, ciphertext, tag
def test_tampered_ciphertext_fails(cipher: PiiCipher, position: int) -> None:
    blob = bytearray(cipher.encrypt("11010519491231002X", field="id_number"))
    blob[position] ^= 0x01
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(bytes(blob), field="id_number")


def test_unknown_version_fails(cipher: PiiCipher) -> None:
    blob = cipher.encrypt("张三", field="name")
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(b"\x02" + blob[1:], field="name")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(27)])
def test_truncated_blob_fails(cipher: PiiCipher, blob: bytes) -> None:
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(blob, field="name")


def test_decrypt_error_is_a_value_error() -> None:
    assert issubclass(PiiDecryptError, ValueError)


def test_decrypt_accepts_memoryview(cipher: PiiCipher) -> None:
    blob = cipher.encrypt("张三", field="name")
    assert cipher.decrypt(memoryview(blob), field="name") == "张三"


@pytest.mark.parametrize("field", ["", "a\x00b"])
def test_invalid_field_names_are_refused(cipher: PiiCipher, field: str) -> None:
    with pytest.raises(ValueError, match="field must be"):
        cipher.encrypt("x", field=field)
    with pytest.raises(ValueError, match="field must be"):
        cipher.blind_index("x", field=field)


# --- blind index --------------------------------------------------------------------------


def test_blind_index_is_deterministic(cipher: PiiCipher) -> None:
    first = cipher.blind_index("11010519491231002X", field="id_number")
    assert first == cipher.blind_index("11010519491231002X", field="id_number")
    assert first == PiiCipher(RAW_KEY).blind_index("11010519491231002X", field="id_number")
    assert len(first) == 64
    assert int(first, 16) >= 0
    assert first == first.lower()


def test_blind_index_differs_per_value_field_and_key(cipher: PiiCipher) -> None:
    base = cipher.blind_index("13812345678", field="phone")
    assert base != cipher.blind_index("13812345679", field="phone")
    assert base != cipher.blind_index("13812345678", field="emergency_phone")
    assert base != PiiCipher(OTHER_KEY).blind_index("13812345678", field="phone")


def test_blind_index_separates_field_from_value(cipher: PiiCipher) -> None:
    assert cipher.blind_index("bc", field="a") != cipher.blind_index("c", field="ab")


def test_blind_index_does_not_reveal_value(cipher: PiiCipher) -> None:
    assert "13812345678" not in cipher.blind_index("13812345678", field="phone")


# --- keys ---------------------------------------------------------------------------------


def _fingerprint(cipher: PiiCipher) -> str:
    return cipher.blind_index("probe", field="probe")


def test_key_parsing_from_bytes_hex_and_base64() -> None:
    expected = _fingerprint(PiiCipher(RAW_KEY))
    encodings = [
        RAW_KEY.hex(),
        RAW_KEY.hex().upper(),
        base64.urlsafe_b64encode(RAW_KEY).decode(),
        base64.urlsafe_b64encode(RAW_KEY).decode().rstrip("="),
        base64.urlsafe_b64encode(RAW_KEY).decode() + "\n",
        bytearray(RAW_KEY),
    ]
    for encoded in encodings:
        assert _fingerprint(PiiCipher(encoded)) == expected


def test_urlsafe_alphabet_is_decoded() -> None:
    key = bytes([0xFB, 0xFF] * 16)  # encodes with "-" and "_"
    encoded = base64.urlsafe_b64encode(key).decode()
    assert "-" in encoded
    assert "_" in encoded
    assert _fingerprint(PiiCipher(encoded)) == _fingerprint(PiiCipher(key))


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        bytes(31),
        bytes(33),
        "",
        "00" * 31,
        "00" * 33,
        "zz" * 32,
        base64.urlsafe_b64encode(bytes(31)).decode(),
        base64.urlsafe_b64encode(bytes(33)).decode(),
        "not a key!",
        RAW_KEY.hex().encode(),  # text of a key passed as bytes is not 32 raw bytes
    ],
)
def test_bad_key_raises_value_error(bad: bytes | str) -> None:
    with pytest.raises(ValueError, match="master key must be"):
        PiiCipher(bad)


def test_key_error_does_not_echo_key_material() -> None:
    secret = "ab" * 31
    with pytest.raises(ValueError, match="master key must be") as excinfo:
        PiiCipher(secret)
    assert secret not in str(excinfo.value)
    assert "ab" * 4 not in str(excinfo.value)


def test_generate_key_round_trips_and_is_random() -> None:
    keys = {generate_key() for _ in range(10)}
    assert len(keys) == 10
    for key in keys:
        assert isinstance(key, str)
        cipher = PiiCipher(key)
        assert cipher.decrypt(cipher.encrypt("张三", field="name"), field="name") == "张三"
        padded = key + "=" * (-len(key) % 4)
        assert len(base64.urlsafe_b64decode(padded)) == 32


def test_repr_hides_key_material() -> None:
    cipher = PiiCipher(RAW_KEY)
    text = repr(cipher) + str(cipher)
    assert RAW_KEY.hex() not in text
    assert RAW_KEY.hex()[:16] not in text
    assert base64.urlsafe_b64encode(RAW_KEY).decode()[:16] not in text
    assert not hasattr(cipher, "__dict__")


def test_cipher_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(PiiCipher(RAW_KEY))
