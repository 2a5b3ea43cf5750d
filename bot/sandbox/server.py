"""A local Bot API server: the part of Telegram's Bot API that Vyraj uses, over real HTTP.

It keeps users, chats and messages in memory, validates requests the way Telegram does where
it matters (lengths, HTML, button data, "message is not modified"), records every call, can be
told to fail (429 with retry_after, 5xx, an HTML error page, a dropped connection), and
delivers updates by long polling or webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from bot.sandbox.telegram_html import EntityParseError, html_to_plain
from services.clock import Clock, SystemClock

JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "allowed_updates",
    "commands",
    "scope",
    "results",
    "options",
    "link_preview_options",
    "reply_parameters",
    "button",
    "media",
    "question_entities",
    "explanation_entities",
}
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# How a fault answers: Bot API JSON, a proxy's HTML error page, or a connection dropped unanswered.
FaultReply = Literal["json", "html", "drop"]
# Bot API 9.6: a poll's open_period or close_date may reach this far ahead.
MAX_POLL_OPEN_SECONDS = 2_628_000
# Updates Telegram sends only to a bot that lists them in allowed_updates.
OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}


class BotApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        reply: FaultReply = "json",
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.reply = reply
        self.migrate_to_chat_id = migrate_to_chat_id


def poll_text(raw: str, parse_mode: Any) -> str:
    """A poll's question or option as shown: parsed like Telegram under an HTML parse mode."""
    if str(parse_mode or "").upper() != "HTML":
        return raw
    try:
        return html_to_plain(raw)
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


def bad_request(what: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {what}")


@dataclass
class FakeUser:
    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None
    is_bot: bool = False
    blocked_bot: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class FakeChat:
    id: int
    type: str  # private, group, supergroup, channel
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    statuses: dict[int, str] = field(default_factory=dict)  # user id -> member status
    is_forum: bool = False  # a supergroup with topics
    topics: dict[int, str] = field(default_factory=dict)  # message_thread_id -> topic name
    migrated_to: int | None = None  # a group upgraded to this supergroup

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "is_forum"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class ChatEvent:
    """Something the bot did to a chat: a message sent, edited or deleted."""

    seq: int
    kind: str  # sent, edited, deleted
    chat_id: int
    message_id: int


@dataclass
class RecordedCall:
    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    method: str | None
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None = None
    reply: FaultReply = "json"


@dataclass
class SlowReply:
    """The next `remaining` calls of `method` (any if None) answer only after `seconds`."""

    method: str | None
    seconds: float
    remaining: int


class LocalBotApi:
    """State and behaviour of the local Bot API; `app` serves it over HTTP."""

    def __init__(
        self,
        bot_id: int = 7000000001,
        bot_username: str = "vyraj_bot",
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.bot = FakeUser(id=bot_id, first_name="Vyraj", username=bot_username, is_bot=True)
        self.token = f"{bot_id}:sandbox-{secrets.token_hex(8)}"
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.message_html: dict[tuple[int, int], str] = {}
        self.events: list[ChatEvent] = []
        # Called with each new event, so the terminal can print what the bot sends unasked.
        self.event_listeners: list[Callable[[ChatEvent], None]] = []
        self.calls: list[RecordedCall] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.files: dict[str, bytes] = {}
        self.polls: dict[str, tuple[int, int]] = {}  # poll id -> (chat id, message id)
        # poll id -> user id -> the options that person chose
        self.poll_voters: dict[str, dict[int, list[int]]] = {}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_allowed: list[str] | None = None
        self.webhook_errors: list[str] = []
        # A test hook for several instances behind one URL, as a load balancer spreads them:
        # updates go round-robin to the webhook and these (setWebhook holds one URL).
        self.extra_webhook_urls: list[str] = []
        self.webhook_receivers: list[str] = []  # where each update was delivered, in order
        self._next_receiver = itertools.count()
        self._faults: list[Fault] = []
        self._garbled: dict[str, int] = {}  # method -> how many more replies to garble
        self._slow_replies: list[SlowReply] = []
        self._closing = False
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(1)
        self._event_seq = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._new_update = asyncio.Condition()
        self._bot_called = asyncio.Condition()
        self._processed: dict[int, asyncio.Future[None]] = {}
        self._webhook_queue: asyncio.Queue[dict[str, Any]] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendPoll": self._send_poll,
            "stopPoll": self._stop_poll,
            "answerInlineQuery": self._answer_inline_query,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "leaveChat": self._leave_chat,
        }

    # ---- HTTP -------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_http)
        app.on_shutdown.append(self._on_shutdown)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_shutdown(self, _app: web.Application) -> None:
        # Wake long polls so the server can stop without waiting for their timeout.
        self._closing = True
        async with self._new_update:
            self._new_update.notify_all()

    async def _on_cleanup(self, _app: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _handle_http(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error_response(BotApiError(401, "Unauthorized"))
        params = await _read_params(request)
        response = await self._call(method, params)
        if response.status == DROPPED and request.transport is not None:
            request.transport.abort()  # the client sees the connection reset, with no reply
        return response

    async def _call(self, method: str, params: dict[str, Any]) -> web.Response:
        call = RecordedCall(method, params)
        self.calls.append(call)
        async with self._bot_called:
            self._bot_called.notify_all()  # waiters may watch for a call's arrival too
        try:
            await self.close_due_polls()
            await self._maybe_stall(method)
            self._maybe_fail(method, params)
            handler = self._methods.get(method)
            if handler is None:
                raise BotApiError(404, "Not Found: method not found")
            result = await handler(params)
            if self._garbled.get(method):
                self._garbled[method] -= 1
                result = _without_date(result)
        except BotApiError as error:
            call.status = error.status
            return _error_response(error)
        finally:
            async with self._bot_called:
                self._bot_called.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Return once `condition()` holds; it is checked again as every Bot API call arrives
        and once it is answered."""
        async with self._bot_called:
            await asyncio.wait_for(self._bot_called.wait_for(condition), timeout)

    # ---- fault injection ----------------------------------------------------------------

    def fail_next(
        self,
        method: str | None = None,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
        count: int = 1,
        chat_id: int | None = None,
        reply: FaultReply = "json",
    ) -> None:
        """Make the next `count` calls of `method` (any method if None; to `chat_id` only if
        given) fail, answering as `reply` says."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else "Internal Server Error"
            )
        self._faults.append(
            Fault(
                method,
                status,
                description,
                retry_after if status == 429 else None,
                count,
                chat_id,
                reply,
            )
        )

    def garble_next(self, method: str, count: int = 1) -> None:
        """Make the next `count` calls of `method` succeed with a message aiogram cannot parse
        (it lacks its required date), as a buggy or newer Bot API might send."""
        self._garbled[method] = self._garbled.get(method, 0) + count

    def slow_next(self, method: str | None = None, *, seconds: float, count: int = 1) -> None:
        """Make the next `count` calls of `method` (any method if None) answer late."""
        self._slow_replies.append(SlowReply(method, seconds, count))

    async def _maybe_stall(self, method: str) -> None:
        for slow in self._slow_replies:
            if slow.remaining > 0 and slow.method in (None, method):
                slow.remaining -= 1
                await asyncio.sleep(slow.seconds)
                return

    def _maybe_fail(self, method: str, params: dict[str, Any]) -> None:
        for fault in self._faults:
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            if fault.remaining > 0 and fault.method in (None, method):
                fault.remaining -= 1
                raise BotApiError(fault.status, fault.description, fault.retry_after, fault.reply)

    # ---- updates ------------------------------------------------------------------------

    async def push_update(self, body: dict[str, Any]) -> int:
        """Queue an update for the bot; returns its update_id."""
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **body}
        self._processed[update_id] = asyncio.get_running_loop().create_future()
        if self.webhook_url is not None and not self._wanted(update, self.webhook_allowed):
            self._mark_processed(update_id)  # Telegram drops what the webhook did not ask for
        elif self.webhook_url is not None and self._webhook_queue is not None:
            await self._webhook_queue.put(update)
        else:
            async with self._new_update:
                self._pending.append(update)
                self._new_update.notify_all()
        return update_id

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        """Return once the bot has finished with the update (acknowledged or answered)."""
        future = self._processed.get(update_id)
        if future is not None:
            await asyncio.wait_for(asyncio.shield(future), timeout)

    def _mark_processed(self, update_id: int) -> None:
        future = self._processed.pop(update_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url is not None:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates") or None
        deadline = time.monotonic() + timeout
        async with self._new_update:
            while True:
                kept = []
                for update in self._pending:
                    confirmed = offset and update["update_id"] < offset
                    if confirmed or not self._wanted(update, allowed):
                        self._mark_processed(update["update_id"])
                    else:
                        kept.append(update)
                self._pending = kept
                if self._pending:
                    return self._pending[:limit]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    return []
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), remaining)

    @staticmethod
    def _wanted(update: dict[str, Any], allowed: list[str] | None) -> bool:
        """Whether Telegram delivers the update under `allowed_updates` (None: the default,
        every kind but the opt-in ones)."""
        kind = next(key for key in update if key != "update_id")
        return kind in allowed if allowed else kind not in OPT_IN_UPDATES

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params)
        self.webhook_url = url
        self.webhook_allowed = params.get("allowed_updates") or None
        self.webhook_secret = params.get("secret_token")
        if self._webhook_queue is None:
            self._webhook_queue = asyncio.Queue()
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        async with self._new_update:
            for update in self._pending:
                await self._webhook_queue.put(update)
            self._pending.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = None
        self.webhook_secret = None
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        queue, self._webhook_queue = self._webhook_queue, None
        if queue is not None:
            async with self._new_update:
                while not queue.empty():
                    self._pending.append(queue.get_nowait())
                self._new_update.notify_all()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        pending = self._webhook_queue.qsize() if self._webhook_queue else len(self._pending)
        info: dict[str, Any] = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if self.webhook_url is not None and self.webhook_allowed is not None:
            info["allowed_updates"] = self.webhook_allowed
        return info

    async def _deliver_webhooks(self) -> None:
        assert self._webhook_queue is not None
        queue = self._webhook_queue
        if self._http is None:
            self._http = aiohttp.ClientSession()
        while True:
            update = await queue.get()
            try:
                await self._post_update(update)
            except Exception as exc:  # a broken webhook must not stop the server
                self.webhook_errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                self._mark_processed(update["update_id"])

    async def _post_update(self, update: dict[str, Any]) -> None:
        assert self._http is not None
        assert self.webhook_url is not None
        headers = {}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        receivers = [self.webhook_url, *self.extra_webhook_urls]
        url = receivers[next(self._next_receiver) % len(receivers)]
        self.webhook_receivers.append(url)
        async with self._http.post(url, json=update, headers=headers) as response:
            if response.status != 200:
                self.webhook_errors.append(f"HTTP {response.status}")
                return
            # A webhook may answer with one method call in its response body.
            if response.content_type.startswith("multipart/"):
                reader = aiohttp.MultipartReader.from_response(response)
                form: dict[str, Any] = {}
                while (part := await reader.next()) is not None:
                    if isinstance(part, aiohttp.BodyPartReader) and part.name:
                        form[part.name] = await part.text()
                if "method" in form:
                    method = form.pop("method")
                    await self._call(method, _decode_json_fields(form))

    # ---- acting as Telegram users (used by the driver) -----------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "en",
        username: str | None = None,
    ) -> FakeUser:
        user = FakeUser(user_id, first_name, language_code, username)
        self.users[user_id] = user
        return user

    def private_chat(self, user: FakeUser) -> FakeChat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = FakeChat(user.id, "private", first_name=user.first_name, username=user.username)
            chat.statuses[self.bot.id] = "member"
            self.chats[user.id] = chat
        return chat

    def create_group(
        self,
        chat_id: int,
        title: str,
        *,
        kind: str = "supergroup",
        username: str | None = None,
        forum: bool = False,
    ) -> FakeChat:
        chat = FakeChat(chat_id, kind, title=title, username=username, is_forum=forum)
        self.chats[chat_id] = chat
        return chat

    def create_topic(self, chat: FakeChat, name: str) -> int:
        """A topic in a forum supergroup; its id is that of the message that created it."""
        if not chat.is_forum:
            raise ValueError("topics exist only in forum supergroups")
        thread_id = self._next_message_id(chat.id)
        chat.topics[thread_id] = name
        return thread_id

    def upgrade_group(
        self, group: FakeChat, by: FakeUser, new_id: int
    ) -> tuple[FakeChat, list[dict[str, Any]]]:
        """The group becomes a supergroup with a new id, its members with it; returns the
        supergroup and the two service messages Telegram sends (old chat, then new)."""
        supergroup = FakeChat(new_id, "supergroup", title=group.title)
        supergroup.statuses = dict(group.statuses)
        self.chats[new_id] = supergroup
        group.migrated_to = new_id
        return supergroup, [
            self.message_update(by, group, {"migrate_to_chat_id": new_id}),
            self.message_update(by, supergroup, {"migrate_from_chat_id": group.id}),
        ]

    def member_status_update(
        self, chat: FakeChat, by: FakeUser, member: FakeUser, new_status: str
    ) -> dict[str, Any] | None:
        """An admin changes someone's status (promotes, demotes); Telegram tells the bot in a
        chat_member update only where the bot is an administrator, else None."""
        old_status = chat.statuses.get(member.id, "left")
        chat.statuses[member.id] = new_status
        if chat.statuses.get(self.bot.id) not in ("administrator", "creator"):
            return None
        return {
            "chat_member": {
                "chat": chat.as_dict(),
                "from": by.as_dict(),
                "date": self._unix_now(),
                "old_chat_member": _member(member, old_status),
                "new_chat_member": _member(member, new_status),
            }
        }

    def message_update(
        self,
        user: FakeUser,
        chat: FakeChat,
        payload: dict[str, Any],
        *,
        kind: str = "message",
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """The body of an update in which `user` writes `payload` (text, sticker...) to `chat`
        (in a forum, to topic `thread_id`; None is General)."""
        message_id = self._next_message_id(chat.id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": self._unix_now(),
            "chat": chat.as_dict(),
            **payload,
        }
        if thread_id is not None:
            if thread_id not in chat.topics:
                raise ValueError("no such topic in this chat")
            message.update(message_thread_id=thread_id, is_topic_message=True)
        if chat.type != "channel":
            message["from"] = user.as_dict()
        else:
            message["sender_chat"] = chat.as_dict()
        text = payload.get("text")
        if isinstance(text, str) and text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else "/"
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if kind == "edited_message":
            message["edit_date"] = self._unix_now()
        self.messages[(chat.id, message_id)] = message
        return {kind: message}

    def callback_update(
        self, user: FakeUser, message: dict[str, Any], data: str
    ) -> tuple[str, dict[str, Any]]:
        query_id = f"cq{next(self._query_ids)}"
        self.callback_answers[query_id] = {}
        body = {
            "callback_query": {
                "id": query_id,
                "from": user.as_dict(),
                "message": message,
                "chat_instance": f"ci{message['chat']['id']}",
                "data": data,
            }
        }
        return query_id, body

    def inline_update(self, user: FakeUser, query: str) -> tuple[str, dict[str, Any]]:
        query_id = f"iq{next(self._query_ids)}"
        body = {
            "inline_query": {
                "id": query_id,
                "from": user.as_dict(),
                "query": query,
                "offset": "",
                "chat_type": "sender",
            }
        }
        return query_id, body

    def bot_membership_update(
        self, chat: FakeChat, by: FakeUser, new_status: str
    ) -> dict[str, Any]:
        old_status = chat.statuses.get(self.bot.id, "left")
        chat.statuses[self.bot.id] = new_status
        return {
            "my_chat_member": {
                "chat": chat.as_dict(),
                "from": by.as_dict(),
                "date": self._unix_now(),
                "old_chat_member": _member(self.bot, old_status),
                "new_chat_member": _member(self.bot, new_status),
            }
        }

    async def vote_in_poll(
        self, poll_id: str, option_ids: list[int], *, voter: FakeUser | None = None
    ) -> int:
        """Someone (`voter`, if named: once per poll unless it allows revoting, when the new
        answer replaces the old) votes in a poll the bot sent; the bot gets the new counts (a
        `poll` update, as for an anonymous poll). Returns the update id."""
        await self.close_due_polls()
        chat_id, message_id = self.polls[poll_id]
        poll = self.messages[(chat_id, message_id)]["poll"]
        if poll["is_closed"]:
            raise ValueError("the poll is closed")
        if not option_ids or any(not 0 <= o < len(poll["options"]) for o in option_ids):
            raise ValueError("no such option in the poll")
        if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError("this poll allows only one answer")
        if len(set(option_ids)) != len(option_ids):
            raise ValueError("an option can be chosen only once")
        if voter is not None:
            voters = self.poll_voters.setdefault(poll_id, {})
            earlier = voters.get(voter.id)
            if earlier is not None and not poll["allows_revoting"]:
                raise ValueError("you have already voted in this poll")
            for option in earlier or []:
                poll["options"][option]["voter_count"] -= 1
            poll["total_voter_count"] -= 1 if earlier else 0
            voters[voter.id] = list(option_ids)
        for option in option_ids:
            poll["options"][option]["voter_count"] += 1
        poll["total_voter_count"] += 1
        return await self.push_update({"poll": dict(poll)})

    async def close_due_polls(self) -> None:
        """Telegram closes a poll by itself at its close_date, and tells the bot the final
        counts; checked before every call and vote, and by tests after moving the clock."""
        now = self._unix_now()
        for chat_id, message_id in list(self.polls.values()):
            poll = self.messages.get((chat_id, message_id), {}).get("poll")
            if poll and not poll["is_closed"] and poll.get("close_date", now + 1) <= now:
                poll["is_closed"] = True
                self._record_event("edited", chat_id, message_id)
                await self.push_update({"poll": dict(poll)})

    def _record_event(self, kind: str, chat_id: int, message_id: int) -> None:
        event = ChatEvent(next(self._event_seq), kind, chat_id, message_id)
        self.events.append(event)
        for listener in self.event_listeners:
            listener(event)

    def events_since(self, seq: int, chat_id: int | None = None) -> list[ChatEvent]:
        return [
            event
            for event in self.events
            if event.seq > seq and (chat_id is None or event.chat_id == chat_id)
        ]

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    def _unix_now(self) -> int:
        """Message dates, by the same clock as the bot."""
        return int(self.clock.now().timestamp())

    # ---- methods --------------------------------------------------------------------------

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot.as_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    def _chat(self, chat_id: Any) -> FakeChat:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for named in self.chats.values():
                if named.username and named.username.lower() == chat_id[1:].lower():
                    return named
            raise bad_request("chat not found")
        try:
            chat = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, chat_id: Any) -> FakeChat:
        chat = self._chat(chat_id)
        status = chat.statuses.get(self.bot.id, "left")
        if chat.migrated_to is not None:
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
            )
        if chat.type == "private":
            user = self.users.get(chat.id)
            if user is not None and user.blocked_bot:
                raise BotApiError(403, "Forbidden: bot was blocked by the user")
        elif status in ("left", "kicked"):
            what = "channel" if chat.type == "channel" else "group"
            raise BotApiError(403, f"Forbidden: bot is not a member of the {what} chat")
        elif chat.type == "channel" and status not in ("administrator", "creator"):
            raise bad_request("need administrator rights in the channel chat")
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _render(self, params: dict[str, Any], field_name: str, limit: int) -> tuple[str, str]:
        raw = str(params.get(field_name) or "")
        if params.get("parse_mode", "").upper() == "HTML":
            try:
                plain = html_to_plain(raw)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        else:
            plain = raw
        if len(plain) > limit:
            what = "message is too long" if field_name == "text" else "message caption is too long"
            raise bad_request(what)
        return raw, plain

    def _check_markup(self, markup: Any) -> dict[str, Any] | None:
        if not markup:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _store_bot_message(
        self, chat: FakeChat, payload: dict[str, Any], html: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        message_id = self._next_message_id(chat.id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot.as_dict(),
            "chat": chat.as_dict(),
            "date": self._unix_now(),
            **payload,
        }
        markup = self._check_markup(params.get("reply_markup"))
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if (thread := params.get("message_thread_id")) is not None:
            if int(thread) not in chat.topics:
                raise bad_request("message thread not found")
            message.update(message_thread_id=int(thread), is_topic_message=True)
        message.update(self._reply_fields(chat, params))
        self.messages[(chat.id, message_id)] = message
        self.message_html[(chat.id, message_id)] = html
        self._record_event("sent", chat.id, message_id)
        return message

    def _reply_fields(self, chat: FakeChat, params: dict[str, Any]) -> dict[str, Any]:
        """`reply_to_message` (and `quote`) of a message sent with reply parameters; a quote
        must be part of the replied-to message's text, as Telegram checks."""
        reply = params.get("reply_parameters") or {}
        replied_id = reply.get("message_id") or params.get("reply_to_message_id")
        replied = self.messages.get((chat.id, int(replied_id or 0)))
        if replied is None:  # unknown here (a hand-made update): nothing to check against
            return {}
        fields: dict[str, Any] = {
            "reply_to_message": {k: v for k, v in replied.items() if k != "reply_to_message"}
        }
        if reply.get("quote"):
            quote = poll_text(str(reply["quote"]), reply.get("quote_parse_mode"))
            position = str(replied.get("text") or replied.get("caption") or "").find(quote)
            if position < 0:
                raise bad_request("QUOTE_TEXT_INVALID")
            fields["quote"] = {"text": quote, "position": position}
        return fields

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params.get("chat_id"))
        raw, plain = self._render(params, "text", MAX_TEXT)
        if not plain.strip():
            raise bad_request("message text is empty")
        return self._store_bot_message(chat, {"text": plain}, raw, params)

    def _bot_message(self, params: dict[str, Any], action: str) -> tuple[FakeChat, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the local server")
        chat = self._chat(params.get("chat_id"))
        key = (chat.id, int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            raise bad_request(f"message to {action} not found")
        if message.get("from", {}).get("id") != self.bot.id:
            raise bad_request(f"message can't be {action}ed")
        return chat, message

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._bot_message(params, "edit")
        raw, plain = self._render(params, "text", MAX_TEXT)
        if not plain.strip():
            raise bad_request("message text is empty")
        markup = self._check_markup(params.get("reply_markup"))
        key = (chat.id, message["message_id"])
        if self.message_html.get(key) == raw and message.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message["text"] = plain
        message.pop("photo", None)
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = self._unix_now()
        self.message_html[key] = raw
        self._record_event("edited", *key)
        return message

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._bot_message(params, "edit")
        markup = self._check_markup(params.get("reply_markup"))
        if message.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        self._record_event("edited", chat.id, message["message_id"])
        return message

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params.get("chat_id"))
        key = (chat.id, int(params.get("message_id") or 0))
        if key not in self.messages:
            raise bad_request("message to delete not found")
        del self.messages[key]
        self._record_event("deleted", *key)
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.callback_answers or self.callback_answers[query_id]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = str(params.get("text") or "")
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {
            "answered": True,
            "text": text,
            "show_alert": bool(params.get("show_alert")),
            "url": params.get("url"),
        }
        return True

    def _store_file(self, params: dict[str, Any], field_name: str) -> tuple[str, int]:
        value = params.get(field_name)
        if isinstance(value, bytes):
            file_id = f"file{next(self._file_ids)}"
            self.files[file_id] = value
            return file_id, len(value)
        if isinstance(value, str) and value:
            return value, len(self.files.get(value, b""))
        raise bad_request(f"there is no {field_name} in the request")

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params.get("chat_id"))
        raw, plain = self._render(params, "caption", MAX_CAPTION)
        file_id, size = self._store_file(params, "photo")
        payload: dict[str, Any] = {
            "photo": [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "width": 1280,
                    "height": 960,
                    "file_size": size,
                }
            ]
        }
        if plain:
            payload["caption"] = plain
        return self._store_bot_message(chat, payload, raw, params)

    async def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params.get("chat_id"))
        raw, plain = self._render(params, "caption", MAX_CAPTION)
        file_id, size = self._store_file(params, "document")
        payload: dict[str, Any] = {
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": params.get("_filename:document", "document"),
                "file_size": size,
            }
        }
        if plain:
            payload["caption"] = plain
        return self._store_bot_message(chat, payload, raw, params)

    async def _send_poll(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params.get("chat_id"))
        question = poll_text(str(params.get("question") or ""), params.get("question_parse_mode"))
        if not 1 <= len(question) <= 300:
            raise bad_request(
                "POLL_QUESTION_INVALID" if question else "poll question must be non-empty"
            )
        options = params.get("options") or []
        texts = [
            poll_text(option["text"], option.get("text_parse_mode"))
            if isinstance(option, dict)
            else str(option)
            for option in options
        ]
        if not 2 <= len(texts) <= 12:
            raise bad_request(
                "poll must have at least 2 option"
                if len(texts) < 2
                else "poll can't have more than 12 options"
            )
        if any(not 1 <= len(text) <= 100 for text in texts):
            raise bad_request("POLL_OPTION_INVALID")
        open_period, close_date = params.get("open_period"), params.get("close_date")
        if open_period is not None and close_date is not None:
            raise bad_request("can't use open_period and close_date together")
        if open_period is not None:
            close_date = self._unix_now() + int(open_period)
        if close_date is not None:
            close_date = int(close_date)
            if not 5 <= close_date - self._unix_now() <= MAX_POLL_OPEN_SECONDS:
                raise bad_request("POLL_CLOSE_DATE_INVALID")
        poll_id = f"poll{next(self._file_ids)}"
        poll = {
            "id": poll_id,
            "question": question,
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": f"{n}"}
                for n, text in enumerate(texts)
            ],
            # Bot API 9.6: True unless refused, for regular polls
            "allows_revoting": _flag(params, "allows_revoting", default=True),
            "hide_results_until_closes": _flag(params, "hide_results_until_closes"),
            "members_only": False,
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": str(params.get("is_anonymous", "true")).lower() != "false",
            "type": params.get("type") or "regular",
            "allows_multiple_answers": _flag(params, "allows_multiple_answers"),
        }
        if close_date is not None:
            poll["close_date"] = close_date
        message = self._store_bot_message(chat, {"poll": poll}, question, params)
        self.polls[poll_id] = (chat.id, message["message_id"])
        return message

    async def _stop_poll(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._bot_message(params, "edit")
        poll = message.get("poll")
        if poll is None:
            raise bad_request("message with poll to stop not found")
        if poll["is_closed"]:
            raise bad_request("poll has already been closed")
        poll["is_closed"] = True
        self._record_event("edited", chat.id, message["message_id"])
        return dict(poll)

    async def _answer_inline_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        if not query_id.startswith("iq") or query_id in self.inline_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results") or []
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [str(result.get("id", "")) for result in results]
        if len(set(ids)) != len(ids) or any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise bad_request("RESULT_ID_INVALID")
        self.inline_answers[query_id] = {
            "results": results,
            "cache_time": params.get("cache_time"),
        }
        return True

    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        return {**chat.as_dict(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        user_id = int(params.get("user_id") or 0)
        user = self.bot if user_id == self.bot.id else self.users.get(user_id)
        if user is None:
            raise bad_request("PARTICIPANT_ID_INVALID")
        default = "member" if chat.type == "private" else "left"
        return _member(user, chat.statuses.get(user_id, default))

    async def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        admins = []
        for user_id, status in chat.statuses.items():
            if status in ("administrator", "creator"):
                user = self.bot if user_id == self.bot.id else self.users.get(user_id)
                if user is not None:
                    admins.append(_member(user, status))
        return admins

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if (
                not 1 <= len(command.get("command", "")) <= 32
                or not 1 <= len(command.get("description", "")) <= 256
            ):
                raise bad_request("BOT_COMMAND_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._writable_chat(params.get("chat_id"))
        return True

    async def _leave_chat(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params.get("chat_id"))
        chat.statuses[self.bot.id] = "left"
        return True


def _flag(params: dict[str, Any], name: str, *, default: bool = False) -> bool:
    value = params.get(name)
    return default if value is None else str(value).lower() == "true"


def _member(user: FakeUser, status: str) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": user.as_dict()}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=True,
            can_edit_stories=True,
            can_delete_stories=True,
            can_send_welcome_messages=False,
            can_post_messages=True,
            can_edit_messages=True,
            can_pin_messages=True,
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _decode_json_fields(form: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in form.items():
        if key in JSON_FIELDS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {key} JSON object") from None
        else:
            params[key] = value
    return params


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Parameters as aiogram sends them: multipart form (files included), or query/JSON."""
    form: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            return {**form, **body}
    elif request.can_read_body:
        posted = await request.post()
        for key, value in posted.items():
            if isinstance(value, web.FileField):
                form[key] = value.file.read()
                form[f"_filename:{key}"] = value.filename
            else:
                form[key] = value
    # Files arrive as attach://name pointing at another part of the form.
    for key, value in list(form.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            form[key] = form.get(value.removeprefix("attach://"), value)
            form[f"_filename:{key}"] = form.get(f"_filename:{value.removeprefix('attach://')}")
    try:
        return _decode_json_fields(form)
    except BotApiError:
        return form


DROPPED = 499  # marks a response that is never sent: the connection is aborted instead


def _without_date(result: Any) -> Any:
    if isinstance(result, dict):
        return {key: value for key, value in result.items() if key != "date"}
    return result


def _error_response(error: BotApiError) -> web.Response:
    if error.reply == "html":
        page = f"<html><body><h1>{error.status} {error.description}</h1></body></html>"
        return web.Response(status=error.status, text=page, content_type="text/html")
    if error.reply == "drop":
        return web.Response(status=DROPPED)
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.status,
        "description": error.description,
    }
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    if error.migrate_to_chat_id is not None:
        body["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
    return web.json_response(body, status=error.status)
