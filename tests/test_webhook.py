"""Webhook mode: the local server delivers updates over HTTP with the secret header."""

from __future__ import annotations

import aiohttp

from bot.sandbox.runtime import Sandbox


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
