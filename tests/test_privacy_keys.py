"""Pseudonyms are stable and keyed; sealed values open only with the right key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.log_redaction import redact
from bot.secret_key import key_file_in_data_folder
from bot.settings import load_settings
from services.privacy import Keyring, UndecryptableError


def test_pseudonyms_are_stable_per_key_and_hide_the_id() -> None:
    a, b = Keyring(b"a" * 32), Keyring(b"b" * 32)
    assert a.user_pseudonym(5_123_456_789) == a.user_pseudonym(5_123_456_789)
    assert a.user_pseudonym(5_123_456_789) != b.user_pseudonym(5_123_456_789)
    assert a.user_pseudonym(5_123_456_789) != a.user_pseudonym(5_123_456_790)
    assert "5123456789" not in a.user_pseudonym(5_123_456_789)


def test_chat_ids_are_sealed_with_aead() -> None:
    keyring = Keyring(b"a" * 32)
    sealed = keyring.seal_chat(-1_001_234_567_890, "Belarusians in Warsaw")
    assert keyring.open_chat(sealed) == (-1_001_234_567_890, "Belarusians in Warsaw")
    assert keyring.seal_chat(42, "") != keyring.seal_chat(42, "")  # random nonce
    with pytest.raises(UndecryptableError):
        Keyring(b"b" * 32).open_chat(sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(UndecryptableError):
        keyring.open_chat(tampered)


def test_short_master_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Keyring(b"short")


def test_log_redaction_masks_ids_but_keeps_ports_and_words() -> None:
    line = redact("user 5123456789 in chat -1001234567890 via 127.0.0.1:8080, update 12")
    assert "5123456789" not in line
    assert "1001234567890" not in line
    assert "127.0.0.1:8080" in line
    assert "update 12" in line
    assert redact("from id6100040001, user_5123456789") == "from id<id>, user_<id>"


def test_a_key_file_in_the_database_folder_is_noticed(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/data/vyraj.sqlite3"
    beside = load_settings(_env_file=None, database_url=database)
    assert key_file_in_data_folder(beside) == tmp_path / "data" / "vyraj.sqlite3.key"
    inside = load_settings(
        _env_file=None, database_url=database, secret_key_file=str(tmp_path / "data" / "k")
    )
    assert key_file_in_data_folder(inside) == tmp_path / "data" / "k"
    apart = load_settings(
        _env_file=None, database_url=database, secret_key_file=str(tmp_path / "secrets" / "k")
    )
    assert key_file_in_data_folder(apart) is None
    from_env = load_settings(_env_file=None, database_url=database, secret_key="s" * 32)
    assert key_file_in_data_folder(from_env) is None
