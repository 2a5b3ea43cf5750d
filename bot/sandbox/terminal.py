"""A terminal chat with the bot: you type as a Telegram user, replies print with buttons."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.sandbox.driver import TelegramUser, buttons_of
from bot.sandbox.runtime import Sandbox, open_sandbox

SANDBOX_HELP = """Sandbox commands (everything else goes to the bot):
  !help               this list
  !user NAME          become another person (a new one, or one you were before)
  !lang CODE          set your Telegram language: be, ru, en, or none
  !group              move to a group chat with the bot (created on first use)
  !private            back to your private chat with the bot
  !inline QUERY       type @bot QUERY in inline mode and see the results
  !quit               leave (Ctrl-D works too)
A number presses that button of the last message with buttons; so does a button's exact text."""


def render_message(message: dict[str, Any], *, edited: bool = False) -> str:
    label = "bot (edited)" if edited else "bot"
    text = message.get("text") or message.get("caption") or ""
    if "photo" in message:
        text = f"[photo] {text}"
    if "document" in message:
        text = f"[document {message['document'].get('file_name')}] {text}"
    if "poll" in message:
        poll = message["poll"]
        options = " / ".join(option["text"] for option in poll["options"])
        text = f"[poll] {poll['question']} ({options})"
    lines = [
        f"{label}: {line}" if i == 0 else f"     {line}" for i, line in enumerate(text.split("\n"))
    ]
    buttons = buttons_of(message)
    if buttons:
        lines.append("     " + "  ".join(f"[{n}] {b.text}" for n, b in enumerate(buttons, 1)))
    return "\n".join(lines)


class TerminalChat:
    """Turns typed lines into updates and prints what the bot did in reply."""

    def __init__(self, sandbox: Sandbox, out: Callable[[str], None]) -> None:
        self.sandbox = sandbox
        self.out = out
        self.people: dict[str, TelegramUser] = {}
        self.current = self._person("Alesia", "be")
        self.group_chat: Any = None
        self.in_group = False

    def _person(self, name: str, language_code: str | None) -> TelegramUser:
        if name not in self.people:
            self.people[name] = self.sandbox.user(name, language_code=language_code)
        return self.people[name]

    def _speaker(self) -> TelegramUser:
        if self.in_group and self.group_chat is not None:
            return self.current.in_chat(self.group_chat)
        return self.current

    async def handle(self, line: str) -> bool:
        """Process one typed line; False when the user wants to leave."""
        line = line.rstrip("\n")
        if line.startswith("!"):
            return await self._sandbox_command(line[1:].strip())
        if not line.strip():
            return True
        speaker = self._speaker()
        seq = self.sandbox.api.last_seq
        target = speaker.last_message_with_buttons
        buttons = buttons_of(target) if target else []
        try:
            if line.strip().isdigit() and 1 <= int(line) <= len(buttons):
                await speaker.click(int(line), target)
            elif target is not None and any(b.text == line.strip() for b in buttons):
                await speaker.click(line.strip(), target)
            else:
                await speaker.send(line)
        except TimeoutError:
            self.out("(the bot did not finish in time)")
        if speaker.last_answer:
            self.out(f"bot (notice): {speaker.last_answer}")
            speaker.last_answer = None
        self._print_since(seq, speaker)
        return True

    def _print_since(self, seq: int, speaker: TelegramUser) -> None:
        printed = False
        for event in self.sandbox.api.events_since(seq, speaker.chat.id):
            message = self.sandbox.api.messages.get((event.chat_id, event.message_id))
            if event.kind == "deleted":
                self.out("(the bot deleted a message)")
            elif message is not None:
                self.out(render_message(message, edited=event.kind == "edited"))
            printed = True
        if not printed:
            self.out("(no reply)")

    async def _sandbox_command(self, command: str) -> bool:
        name, _, arg = command.partition(" ")
        arg = arg.strip()
        if name in ("quit", "exit", "q"):
            return False
        if name == "user" and arg:
            self.current = self._person(arg, self.current.user.language_code)
            self.out(f"(you are now {arg})")
        elif name == "lang" and arg in ("be", "ru", "en", "none"):
            self.current.user.language_code = None if arg == "none" else arg
            self.out(f"(Telegram language: {arg})")
        elif name == "group":
            if self.group_chat is None:
                self.group_chat = await self.sandbox.group("Sandbox group", added_by=self.current)
            self.in_group = True
            self.out('(you are in the group "Sandbox group"; address commands as /help@vyraj_bot)')
        elif name == "private":
            self.in_group = False
            self.out("(you are in your private chat with the bot)")
        elif name == "inline":
            results = await self._speaker().inline(arg)
            if not results:
                self.out("(no inline results)")
            for n, result in enumerate(results, 1):
                self.out(f"  {n}. {result.get('title', '')}: {result.get('description', '')}")
        else:
            self.out(SANDBOX_HELP)
        return True


async def run_terminal(
    lines: Iterable[str] | None,
    *,
    database: Path | None,
    out: TextIO = sys.stdout,
    echo: bool = False,
) -> int:
    """Interactive when `lines` is None; otherwise feed them and print a transcript."""

    def write(text: str) -> None:
        print(text, file=out, flush=True)

    with tempfile.TemporaryDirectory(prefix="vyraj-sandbox-") as tmp:
        db_path = database or Path(tmp) / "sandbox.sqlite3"
        async with open_sandbox(db_path) as sandbox:
            if database is not None:
                # A kept database needs a kept key: beside it, like `vyraj run` does.
                from bot.secret_key import resolve_master_secret

                sandbox.secret_key = resolve_master_secret(
                    sandbox.settings(secret_key=None)
                ).value.decode()
            chat = TerminalChat(sandbox, write)
            # Alesia is the bot's admin, so waves, /stats full, /digest and polls can be tried.
            await sandbox.start_bot(admin_ids=str(chat.current.user.id))
            if lines is None:
                write(
                    "Vyraj sandbox: you are Alesia (Telegram language: be), the bot's admin. "
                    "Type !help for help."
                )
                loop = asyncio.get_running_loop()
                while True:
                    line = await loop.run_in_executor(None, _prompt)
                    if line is None or not await chat.handle(line):
                        break
            else:
                for raw in lines:
                    line = raw.rstrip("\n")
                    if not line.strip() or line.lstrip().startswith("#"):
                        continue
                    if echo:
                        write(f"> {line}")
                    if not await chat.handle(line):
                        break
    return 0


def _prompt() -> str | None:
    try:
        return input("you> ")
    except EOFError:
        return None
