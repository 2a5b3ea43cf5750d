"""Act as Telegram users against the local Bot API server: send, click, ask inline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.sandbox.server import FakeChat, FakeUser, LocalBotApi


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None
    url: str | None


def buttons_of(message: dict[str, Any]) -> list[Button]:
    """The inline buttons of a message, left to right, top to bottom."""
    markup = message.get("reply_markup") or {}
    return [
        Button(button["text"], button.get("callback_data"), button.get("url"))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]


class TelegramUser:
    """One person in one chat, as a test or the terminal sees them.

    Every action waits until the bot has finished handling it, so assertions that follow
    see the bot's complete reply.
    """

    def __init__(
        self,
        api: LocalBotApi,
        user: FakeUser,
        chat: FakeChat | None = None,
        thread_id: int | None = None,
    ) -> None:
        self.api = api
        self.user = user
        self.chat = chat or api.private_chat(user)
        self.thread_id = thread_id  # the forum topic written in; None is General
        self.last_answer: str | None = None  # the toast of the last button press
        self.last_answer_url: str | None = None  # the link the last button press opened
        self.last_sent: dict[str, Any] | None = None  # this person's last message, to reply to

    def in_chat(self, chat: FakeChat) -> TelegramUser:
        """The same person writing in another chat (a group, say)."""
        return TelegramUser(self.api, self.user, chat)

    def in_topic(self, thread_id: int | None) -> TelegramUser:
        """The same person writing in a topic of this forum supergroup (None: General)."""
        return TelegramUser(self.api, self.user, self.chat, thread_id)

    async def _deliver(self, body: dict[str, Any]) -> int:
        update_id = await self.api.push_update(body)
        await self.api.wait_processed(update_id)
        return update_id

    async def send(
        self, text: str, *, reply_to: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Write `text` to the chat (a post, in a channel); returns the bot messages sent or
        edited in reply."""
        kind = "channel_post" if self.chat.type == "channel" else "message"
        return await self.send_payload({"text": text}, reply_to=reply_to, kind=kind)

    async def send_payload(
        self,
        payload: dict[str, Any],
        *,
        kind: str = "message",
        reply_to: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Send any message content (a sticker, a photo...) or an `edited_message`."""
        seq = self.api.last_seq
        body = self.api.message_update(
            self.user, self.chat, payload, kind=kind, reply_to=reply_to, thread_id=self.thread_id
        )
        self.last_sent = body[kind]
        await self._deliver(body)
        return self.replies_since(seq)

    async def click(
        self, button: str | int, message: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Press a button (by text, or 1-based index) of `message` or the latest with buttons."""
        message = message or self.last_message_with_buttons
        if message is None:
            raise LookupError("no message with buttons in this chat")
        chosen = self.find_button(message, button)
        if chosen.callback_data is None:
            raise LookupError(f"button {chosen.text!r} has no callback data")
        return await self.press(message, chosen.callback_data)

    async def press(self, message: dict[str, Any], data: str) -> list[dict[str, Any]]:
        """Send a callback query with arbitrary data, as a forged or stale button would."""
        seq = self.api.last_seq
        query_id, body = self.api.callback_update(self.user, message, data)
        await self._deliver(body)
        answer = self.api.callback_answers.get(query_id, {})
        self.last_answer, self.last_answer_url = answer.get("text"), answer.get("url")
        return self.replies_since(seq)

    async def inline(self, query: str) -> list[dict[str, Any]]:
        """Type `@bot query`; returns the results the bot offered."""
        query_id, body = self.api.inline_update(self.user, query)
        await self._deliver(body)
        return list(self.api.inline_answers.get(query_id, {}).get("results", []))

    def find_button(self, message: dict[str, Any], wanted: str | int) -> Button:
        """The button by 1-based number, exact text, text in any case, or part of its text."""
        buttons = buttons_of(message)
        if isinstance(wanted, int):
            if not 1 <= wanted <= len(buttons):
                raise LookupError(f"no button number {wanted}")
            return buttons[wanted - 1]
        for match in (
            lambda b: b.text == wanted,
            lambda b: b.text.casefold() == wanted.casefold(),
            lambda b: wanted.casefold() in b.text.casefold(),
        ):
            found = [b for b in buttons if match(b)]
            if found:
                return found[0]
        raise LookupError(f"no button {wanted!r} among {[b.text for b in buttons]}")

    # ---- what the bot said -------------------------------------------------------------------

    def replies_since(self, seq: int) -> list[dict[str, Any]]:
        seen: dict[int, dict[str, Any]] = {}
        for event in self.api.events_since(seq, self.chat.id):
            message = self.api.messages.get((event.chat_id, event.message_id))
            if message is not None:
                seen[event.message_id] = message
        return list(seen.values())

    @property
    def bot_messages(self) -> list[dict[str, Any]]:
        """The bot's messages still in the chat, oldest first."""
        return [
            message
            for (chat_id, _), message in sorted(self.api.messages.items())
            if chat_id == self.chat.id and message.get("from", {}).get("id") == self.api.bot.id
        ]

    @property
    def last_message(self) -> dict[str, Any] | None:
        """The bot message touched last (sent or edited) that still exists."""
        for event in reversed(self.api.events):
            if event.chat_id == self.chat.id and event.kind != "deleted":
                message = self.api.messages.get((event.chat_id, event.message_id))
                if message is not None:
                    return message
        return None

    @property
    def last_text(self) -> str:
        message = self.last_message
        if message is None:
            return ""
        return str(message.get("text") or message.get("caption") or "")

    @property
    def last_buttons(self) -> list[str]:
        message = self.last_message
        return [button.text for button in buttons_of(message)] if message else []

    @property
    def last_message_with_buttons(self) -> dict[str, Any] | None:
        with_buttons = [m for m in self.bot_messages_by_recency() if buttons_of(m)]
        return with_buttons[-1] if with_buttons else None

    def bot_messages_by_recency(self) -> list[dict[str, Any]]:
        """The bot's messages in this chat, ordered by when they were last sent or edited."""
        order: dict[int, int] = {}
        for event in self.api.events:
            if event.chat_id == self.chat.id:
                order[event.message_id] = event.seq
        return [
            self.api.messages[(self.chat.id, message_id)]
            for message_id in sorted(order, key=order.__getitem__)
            if (self.chat.id, message_id) in self.api.messages
        ]
