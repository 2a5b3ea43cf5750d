"""Webhook mode: the local server delivers updates over HTTP with the secret header."""

from __future__ import annotations

import aiohttp

from bot.sandbox.runtime import Sandbox, free_port
from bot.webhook_setup import set_webhook


async def test_start_over_webhook(sandbox: Sandbox) -> None:
    await sandbox.start_bot(webhook=True)
    assert sandbox.api.webhook_url is not None
    user = sandbox.user(language_code="ru")
    await user.send("/start")
    assert "Привет! Я Vyraj" in user.last_text
    assert sandbox.api.webhook_errors == []


async def test_webhook_refuses_a_wrong_secret(sandbox: Sandbox) -> None:
    await sandbox.start_bot(webhook=True)
    url = sandbox.api.webhook_url
    assert url is not None
    user = sandbox.user(language_code="en")
    sent_before = len(sandbox.api.messages)
    update = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 0,
            "text": "/start",
            "chat": {"id": user.user.id, "type": "private"},
            "from": user.user.as_dict(),
        },
    }
    async with aiohttp.ClientSession() as http:
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 401
    assert len(sandbox.api.messages) == sent_before
    # The genuine path still works.
    await user.send("/start")
    assert "Hello! I am Vyraj" in user.last_text


async def test_switching_back_to_polling_deletes_the_webhook(sandbox: Sandbox) -> None:
    await sandbox.start_bot(webhook=True)
    await sandbox.stop_bot()
    await sandbox.start_bot()
    assert sandbox.api.webhook_url is None
    user = sandbox.user(language_code="en")
    await user.send("/help")
    assert "What I understand" in user.last_text


async def test_a_restart_finds_the_webhook_in_place_and_leaves_it(sandbox: Sandbox) -> None:
    def webhook_at(port: int) -> dict[str, object]:
        return {
            "webhook_url": f"http://127.0.0.1:{port}/webhook",
            "webhook_listen": f"127.0.0.1:{port}",
        }

    def set_webhook_calls() -> int:
        return sum(1 for call in sandbox.api.calls if call.method == "setWebhook")

    port = free_port()
    await sandbox.start_bot(webhook=True, **webhook_at(port))
    await sandbox.stop_bot()
    await sandbox.start_bot(webhook=True, **webhook_at(port))
    assert set_webhook_calls() == 1  # another instance of the deployment, or a restart
    user = sandbox.user(language_code="en")
    await user.send("/start")
    assert "Hello! I am Vyraj" in user.last_text
    await sandbox.stop_bot()
    moved = free_port()
    await sandbox.start_bot(webhook=True, **webhook_at(moved))
    assert set_webhook_calls() == 2  # a new URL is registered
    assert sandbox.api.webhook_url == webhook_at(moved)["webhook_url"]
    await sandbox.stop_bot()
    # `vyraj set-webhook` registers it whatever Telegram has (after a new WEBHOOK_SECRET).
    await set_webhook(sandbox.settings(webhook_secret="a-new-secret", **webhook_at(moved)))
    assert set_webhook_calls() == 3
    assert sandbox.api.webhook_secret == "a-new-secret"
