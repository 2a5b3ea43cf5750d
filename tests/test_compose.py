"""compose.yaml's contract with the bot, checked where no container engine runs: the settings
it passes exist, Redis keeps nothing on disk, nginx forwards to where the bots listen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_bots_get_only_settings_vyraj_knows() -> None:
    environment = _compose()["services"]["bot"]["environment"]
    unknown = [name for name in environment if name.lower() not in Settings.model_fields]
    assert unknown == []
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert environment["REDIS_URL"].startswith("redis://redis:")


def test_redis_runs_with_persistence_off() -> None:
    command = _compose()["services"]["redis"]["command"]
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"


def test_nginx_forwards_the_webhook_path_to_the_bots_port() -> None:
    bot = _compose()["services"]["bot"]
    port = bot["environment"]["WEBHOOK_LISTEN"].rsplit(":", 1)[1]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text("utf-8")
    assert f"location = {Settings.model_fields['webhook_path'].default} " in nginx
    assert re.search(rf"http://bot:{port}\b", nginx)
    assert "access_log off" in nginx


def test_the_key_vault_is_a_volume_the_bots_share_and_the_image_prepares() -> None:
    compose = _compose()
    bot = compose["services"]["bot"]
    vault = bot["environment"]["KEY_VAULT_DIR"]
    assert f"key-vault:{vault}" in bot["volumes"]
    assert "key-vault" in compose["volumes"]
    assert vault in (ROOT / "Dockerfile").read_text("utf-8")


def test_the_bots_health_check_is_vyraj_health() -> None:
    assert _compose()["services"]["bot"]["healthcheck"]["test"] == ["CMD", "vyraj", "health"]


def test_the_key_vault_is_required_and_not_in_the_database_volume() -> None:
    compose = _compose()
    bot = compose["services"]["bot"]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        secret_key="s" * 32,
        **{name.lower(): value for name, value in bot["environment"].items()},
    )
    assert settings.key_vault_dir is not None
    postgres_volumes = compose["services"]["postgres"]["volumes"]
    assert not any(volume.startswith("key-vault:") for volume in postgres_volumes)
