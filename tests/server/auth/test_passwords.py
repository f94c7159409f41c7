"""Argon2id hashing and the password strength rule used by the API and the CLI."""

from __future__ import annotations

import pytest

from server.auth.passwords import hash_password, needs_rehash, password_problems, verify_password


def test_hash_and_verify():
    hashed = hash_password("Gr1d-worker")
    assert hashed.startswith("$argon2id$") and "Gr1d-worker" not in hashed
    assert hash_password("Gr1d-worker") != hashed  # salted
    assert verify_password(hashed, "Gr1d-worker")
    assert not verify_password(hashed, "gr1d-worker")
    assert not verify_password(hashed, "")
    assert not needs_rehash(hashed)


def test_missing_or_corrupt_hash_never_verifies():
    assert not verify_password(None, "wangge-timing-equaliser")
    assert not verify_password(None, "anything1")
    assert not verify_password("not-a-hash", "anything1")


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("abc1", ["密码至少8位"]),
        ("12345678", ["密码需同时包含字母和数字"]),
        ("abcdefgh", ["密码需同时包含字母和数字"]),
        ("short", ["密码至少8位", "密码需同时包含字母和数字"]),
        # The message promises letters and digits, so symbols do not stand in for either.
        ("abcdefg!", ["密码需同时包含字母和数字"]),
        ("1234567-", ["密码需同时包含字母和数字"]),
        ("--------", ["密码需同时包含字母和数字"]),
        ("Passw0rd", []),
        ("网格员2024abc", []),
    ],
)
def test_password_problems(password, problems):
    assert password_problems(password) == problems
