"""A terminal chat with the bot: you type as a Telegram user, replies print with buttons."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.driver import TelegramUser, buttons_of
from bot.sandbox.line_reader import LineReader
from bot.sandbox.runtime import Sandbox, open_sandbox
from bot.sandbox.server import ChatEvent, FakeChat, FaultReply

SANDBOX_HELP = """Sandbox commands (everything else goes to the bot):
  !help               this list
  !user NAME          become another person (a new one, or one you were before)
  !lang CODE          set your Telegram language: be, ru, en, or none
  !group              move to a group chat with the bot (created on first use)
  !private            back to your private chat with the bot
  !inline QUERY       type @bot QUERY in inline mode and see the results
  !reply [N] TEXT     reply with TEXT to the bot's message #N (without N: to its last one)
  !vote N [M ...]     vote for option N (M...: several, if it allows) in the newest open poll
  !fault KIND [METHOD] [N]  the next N (1) Bot API calls (of METHOD) fail: KIND is 429, 500,
                      502 (a proxy's HTML page), drop (connection reset) or slow (5 s late)
  !quit               leave (Ctrl-D and Ctrl-C work too)
A number presses that button of the last message with buttons; so does a button's exact text.
A link button shows its link; a link to the bot (t.me/<bot>?start=...) opens your private chat
and sends /start with its payload. What the bot sends unasked prints as it arrives; messages to
another person you have been, or to the group while you are elsewhere, are labelled."""

FAULT_USAGE = "!fault 429|500|502|drop|slow [METHOD] [N], e.g. !fault 502 sendMessage"
SLOW_REPLY_SECONDS = 5.0
VOTE_USAGE = "vote with option numbers: !vote 2, or !vote 1 3 where several answers are allowed"


class GestureError(Exception):
    """A typed gesture that cannot be carried out; the message says why."""


def render_message(message: dict[str, Any], *, edited: bool = False) -> str:
    label = f"bot #{message['message_id']}" + (" (edited)" if edited else "")
    if "reply_to_message" in message:
        quote = message.get("quote", {}).get("text")
        label += f" (to #{message['reply_to_message']['message_id']}"
        label += f', quoting "{quote}")' if quote else ")"
    text = message.get("text") or message.get("caption") or ""
    if "photo" in message:
        text = f"[photo] {text}"
    if "document" in message:
        text = f"[document {message['document'].get('file_name')}] {text}"
    if "poll" in message:
        text = render_poll(message["poll"])
    lines = [
        f"{label}: {line}" if i == 0 else f"     {line}" for i, line in enumerate(text.split("\n"))
    ]
    buttons = buttons_of(message)
    if buttons:
        lines.append("     " + "  ".join(f"[{n}] {b.text}" for n, b in enumerate(buttons, 1)))
    return "\n".join(lines)


def render_poll(poll: dict[str, Any]) -> str:
    """A native poll with numbered options and the counts Telegram shows after voting."""
    options = "  ".join(
        f"{n}) {option['text']}: {option['voter_count']}"
        for n, option in enumerate(poll["options"], 1)
    )
    state = "closed" if poll["is_closed"] else "open: !vote N"
    return f"[poll] {poll['question']}\n{options}\n({state})"


def deep_link_payload(url: str, bot_username: str) -> str | None:
    """The start payload of a `t.me/<bot>?start=...` link to this bot; None for other links."""
    parts = urlsplit(url)
    if parts.hostname not in ("t.me", "telegram.me"):
        return None
    if parts.path.strip("/").casefold() != bot_username.casefold():
        return None
    payloads = parse_qs(parts.query).get("start")
    return payloads[0] if payloads else None


class TerminalChat:
    """Turns typed lines into updates and prints what the bot did in reply."""

    def __init__(self, sandbox: Sandbox, out: Callable[[str], None]) -> None:
        self.sandbox = sandbox
        self.api = sandbox.api
        self.out = out
        self.people: dict[str, TelegramUser] = {}
        self.current = self._person("Alesia", "be")
        self.group_chat: FakeChat | None = None
        self.in_group = False
        self.busy = False  # handling a typed line: it prints its own replies
        self._shown_seq = self.api.last_seq

    def _person(self, name: str, language_code: str | None) -> TelegramUser:
        if name not in self.people:
            self.people[name] = self.sandbox.user(name, language_code=language_code)
        return self.people[name]

    def _speaker(self) -> TelegramUser:
        if self.in_group and self.group_chat is not None:
            return self.current.in_chat(self.group_chat)
        return self.current

    async def handle(self, line: str) -> bool:
        """Process one typed line; False only when the user asks to leave."""
        line = line.strip()
        if not line:
            return True
        self.busy = True
        try:
            return await self._handle(line)
        finally:
            self.busy = False

    async def _handle(self, line: str) -> bool:
        keep_going = True
        try:
            if line.startswith("!"):
                keep_going = await self._sandbox_command(line[1:].strip())
            else:
                await self._to_bot(line)
        except (GestureError, LookupError, ValueError) as problem:
            self.out(f"({problem})")
        except TimeoutError:
            self.out("(the bot did not finish in time)")
        except Exception as exc:  # nothing typed may end the session
            self.out(f"(that line failed: {type(exc).__name__}: {exc})")
        for arrival in self._take_arrivals():
            self.out(arrival)
        return keep_going

    async def _to_bot(self, line: str) -> None:
        speaker = self._speaker()
        target = speaker.last_message_with_buttons
        if target is not None and line.isdigit():
            await self._press(speaker, target, int(line))
        elif target is not None and any(b.text == line for b in buttons_of(target)):
            await self._press(speaker, target, line)
        else:
            seq = self.api.last_seq
            await speaker.send(line)
            await self._report(seq, speaker)

    async def _press(
        self, speaker: TelegramUser, message: dict[str, Any], wanted: int | str
    ) -> None:
        button = speaker.find_button(message, wanted)
        if button.url is not None:
            self.out(f"(the button opens {button.url})")
            payload = deep_link_payload(button.url, self.api.bot.username or "")
            if payload is not None:
                await self._start_with(payload)
            return
        if button.callback_data is None:
            raise GestureError(f"the button {button.text!r} does nothing in the sandbox")
        seq = self.api.last_seq
        await speaker.press(message, button.callback_data)
        if speaker.last_answer:
            self.out(f"bot (notice): {speaker.last_answer}")
            speaker.last_answer = None
        await self._report(seq, speaker)
        if speaker.last_answer_url:  # the bot sent the press on to a link (a private chat)
            self.out(f"(the bot opens {speaker.last_answer_url})")
            payload = deep_link_payload(speaker.last_answer_url, self.api.bot.username or "")
            speaker.last_answer_url = None
            if payload is not None:
                await self._start_with(payload)

    async def _start_with(self, payload: str) -> None:
        """Follow a deep link as Telegram does: open the private chat, send `/start PAYLOAD`."""
        self.in_group = False
        self.out("(you are in your private chat with the bot)")
        seq = self.api.last_seq
        await self.current.send(f"/start {payload}")
        await self._report(seq, self.current)

    async def _reply(self, arg: str) -> None:
        speaker = self._speaker()
        number, _, text = arg.partition(" ")
        if number.removeprefix("#").isdigit():
            message_id = int(number.removeprefix("#"))
            target = self.api.messages.get((speaker.chat.id, message_id))
            if target is None:
                raise GestureError(f"there is no message #{message_id} in this chat")
        else:
            target, text = speaker.last_message, arg
            if target is None:
                raise GestureError("the bot has sent nothing in this chat to reply to")
        if not text.strip():
            raise GestureError("write the reply: !reply TEXT, or !reply N TEXT for message #N")
        seq = self.api.last_seq
        await speaker.send(text.strip(), reply_to=target)
        await self._report(seq, speaker)

    async def _vote(self, arg: str) -> None:
        speaker = self._speaker()
        polls = [m for m in speaker.bot_messages if "poll" in m]
        if not polls:
            raise GestureError("there is no poll in this chat to vote in")
        open_polls = [m for m in polls if not m["poll"]["is_closed"]]
        if not open_polls:
            raise GestureError("the polls in this chat are closed")
        message = open_polls[-1]
        poll = message["poll"]
        words = arg.split()
        if not words or not all(word.isdigit() for word in words):
            raise GestureError(VOTE_USAGE)
        choices = [int(word) - 1 for word in words]
        update_id = await self.api.vote_in_poll(poll["id"], choices, voter=speaker.user)
        await self.api.wait_processed(update_id)
        chosen = ", ".join(poll["options"][choice]["text"] for choice in choices)
        self.out(f"(you voted for {chosen} in poll #{message['message_id']})")

    def _fault(self, arg: str) -> None:
        kind, *rest = arg.split() or [""]
        count = int(rest.pop()) if rest and rest[-1].isdigit() else 1
        if kind not in ("429", "500", "502", "drop", "slow") or len(rest) > 1:
            raise GestureError(FAULT_USAGE)
        method = rest[0] if rest else None
        if kind == "slow":
            self.api.slow_next(method, seconds=SLOW_REPLY_SECONDS, count=count)
        elif kind == "429":
            self.api.fail_next(method, status=429, retry_after=1, count=count)
        elif kind == "500":
            self.api.fail_next(method, status=500, count=count)
        else:
            reply: FaultReply = "html" if kind == "502" else "drop"
            self.api.fail_next(
                method, status=502, description="Bad Gateway", count=count, reply=reply
            )
        self.out(f"(the next {count} call(s) of {method or 'any method'} will get: {kind})")

    async def _report(self, seq: int, speaker: TelegramUser) -> None:
        """Print what the bot did since `seq`; say so when it left the speaker unanswered."""
        if self.sandbox.bot is not None:
            # Notices of a new wave go out in the background: wait, so they print with the line.
            with contextlib.suppress(Exception):  # a failed broadcast is the bot's to log
                await self.sandbox.bot.vyraj.broadcaster.wait()
        answered = bool(self.api.events_since(seq, speaker.chat.id))
        for line in self._take_arrivals():
            self.out(line)
        if not answered:
            self.out("(no reply)")

    def _take_arrivals(self) -> list[str]:
        """The bot's doings not yet printed, in chats the sandbox knows, labelled by chat."""
        here = self._speaker().chat.id
        lines = []
        for event in self.api.events_since(self._shown_seq):
            self._shown_seq = event.seq
            label = self._chat_label(event, here)
            if label is None:
                continue
            message = self.api.messages.get((event.chat_id, event.message_id))
            if event.kind == "deleted":
                lines.append(f"{label}(the bot deleted message #{event.message_id})")
            elif message is not None:
                lines.append(label + render_message(message, edited=event.kind == "edited"))
        return lines

    def _chat_label(self, event: ChatEvent, here: int) -> str | None:
        if event.chat_id == here:
            return ""
        if self.group_chat is not None and event.chat_id == self.group_chat.id:
            return f"[{self.group_chat.title}] "
        for name, person in self.people.items():
            if person.chat.id == event.chat_id:
                return f"[to {name}] "
        return None  # a chat the sandbox never showed you

    async def print_unasked(self, prompt: Callable[[], None]) -> None:
        """Until cancelled: print what the bot sends while nobody is typing, then prompt again."""
        arrived = asyncio.Event()
        arrived.set()  # first look at what came before this task was listening

        def wake(_event: ChatEvent) -> None:
            arrived.set()

        self.api.event_listeners.append(wake)
        try:
            while True:
                await arrived.wait()
                arrived.clear()
                lines = [] if self.busy else self._take_arrivals()
                if lines:
                    self.out("")  # off the prompt's line
                    for line in lines:
                        self.out(line)
                    prompt()
        finally:
            self.api.event_listeners.remove(wake)

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
        elif name == "reply":
            await self._reply(arg)
        elif name == "vote":
            await self._vote(arg)
        elif name == "fault":
            self._fault(arg)
        else:
            self.out(SANDBOX_HELP)
        return True


async def run_terminal(
    lines: Iterable[str] | None,
    *,
    database: Path | None,
    out: TextIO = sys.stdout,
    echo: bool = False,
    input_fd: int | None = None,
) -> int:
    """Interactive when `lines` is None (reading `input_fd`, stdin by default); otherwise feed
    `lines` and print a transcript."""

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
                fd = sys.stdin.fileno() if input_fd is None else input_fd
                await _chat_interactively(chat, LineReader(fd), out)
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


async def _chat_interactively(chat: TerminalChat, reader: LineReader, out: TextIO) -> None:
    def prompt() -> None:
        out.write("you> ")
        out.flush()

    watcher = asyncio.create_task(chat.print_unasked(prompt))
    try:
        while True:
            prompt()
            line = await reader.next_line()
            if line is None:
                out.write("\n")  # Ctrl-D leaves the cursor on the prompt's line
                break
            if not await chat.handle(line):
                break
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
