"""Settings errors are one clear line and exit code 2; the CLI helps without a token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.secret_key import key_file_for, resolve_master_secret
from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def run_vyraj(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean_env = {
        k: v
        for k, v in os.environ.items()
        if k.isupper()
        and not k.startswith(
            (
                "BOT_",
                "TELEGRAM_",
                "DATABASE_",
                "SECRET_",
                "ADMIN_",
                "DEFAULT_",
                "TIMEZONE",
                "WEBHOOK_",
            )
        )
    }
    clean_env.update(env)
    clean_env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("DEFAULT_LOCALE", "de", "DEFAULT_LOCALE"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("BOT_TOKEN", "not a token", "BOT_TOKEN"),
        ("WEBHOOK_LISTEN", "nowhere", "WEBHOOK_LISTEN"),
        ("WEBHOOK_URL", "https://example.org/hook", "WEBHOOK_SECRET"),
    ],
)
def test_invalid_setting_is_one_line_and_exit_2(
    tmp_path: Path, variable: str, value: str, complaint: str
) -> None:
    result = run_vyraj(tmp_path, "run", **{"BOT_TOKEN": "123:abc", variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(complaint)
    assert "Traceback" not in result.stderr


def test_run_without_a_token_explains_how_to_get_one(tmp_path: Path) -> None:
    result = run_vyraj(tmp_path, "run")
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "vyraj sandbox" in result.stderr


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_vyraj(tmp_path, "--help")
    assert result.returncode == 0
    assert "run" in result.stdout
    assert "sandbox" in result.stdout


def test_settings_parse_admin_ids_and_defaults() -> None:
    settings = load_settings(_env_file=None, admin_ids="1, 22,333", bot_token="1:x")
    assert settings.admin_ids == frozenset({1, 22, 333})
    assert settings.default_locale == "be"
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.database_path == Path("data/vyraj.sqlite3")


def test_load_settings_reports_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^DEFAULT_LOCALE"):
        load_settings(_env_file=None, default_locale="pl")


def test_generated_key_file_is_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/db/v.sqlite3")  # type: ignore[call-arg]
    settings.database_path.parent.mkdir()  # `vyraj run` makes the folder before the key
    first = resolve_master_secret(settings)
    assert first.generated_at == key_file_for(settings.database_path)
    assert first.generated_at.stat().st_mode & 0o777 == 0o600
    second = resolve_master_secret(settings)
    assert second.generated_at is None
    assert second.value == first.value


def test_sandbox_script_prints_replies_in_the_chosen_language(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text("/start\n/lang\nРусский\n/help\n", encoding="utf-8")
    result = run_vyraj(tmp_path, "sandbox", "--script", str(script))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /start" in out
    assert "Вітаю! Я Vyraj" in out  # Telegram language be
    assert "[2] Русский" in out
    assert "Готово: теперь язык общения: Русский." in out
    assert "Что я понимаю" in out  # /help after switching to Russian


def test_sandbox_reads_stdin_when_not_a_terminal(tmp_path: Path) -> None:
    clean = dict(os.environ.items())
    clean["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox"],
        input="!lang en\n/start\n!group\n/help@vyraj_bot\n",
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Hello! I am Vyraj" in result.stdout
    assert "In groups, address commands to me" in result.stdout
