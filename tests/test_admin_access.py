"""Admin commands: one filter lets the bot's admins through, everyone else gets one refusal."""

from __future__ import annotations

from bot.sandbox.runtime import Sandbox

REFUSAL = "only for the bot's admins"
ADMIN_COMMANDS = (
    "/unanswered",
    "/kbstats",
    "/kbnotes",
    "/kbreload",
    "/wave",
    "/digest",
    "/stats full",
)


async def test_every_admin_command_is_refused_to_others_and_runs_for_admins(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id))
    member = sandbox.user(language_code="en")
    for command in ADMIN_COMMANDS:
        await member.send(command)
        assert REFUSAL in member.last_text, command
        replies = [
            reply.get("text") or reply.get("caption") or "" for reply in await admin.send(command)
        ]
        assert replies, command
        assert not any(REFUSAL in text or "don't know" in text for text in replies), command


async def test_plain_stats_stays_public(sandbox: Sandbox) -> None:
    await sandbox.start_bot()
    member = sandbox.user(language_code="en")
    await member.send("/stats")
    assert "No survey has run yet" in member.last_text
