"""/privacy: what is stored, what is not, what a copied database would reveal."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.common.menu import MenuCallback, main_menu_keyboard
from handlers.common.replies import edit_or_send


def privacy_text() -> str:
    return _(
        "<b>🔒 Privacy</b>\n\n"
        "<b>What I store:</b> your chosen language, and the step of an unfinished dialogue "
        "(encrypted). Both are filed under a pseudonym: a keyed hash of your Telegram id that "
        "cannot be turned back into the id without the server's secret key. Your 👍/👎 on an "
        "article is filed under a separate pseudonym for each article. When I cannot answer a "
        'question, I keep only its search terms for the admins, cut to word stems ("karta '
        'pobytu" becomes "kart pobit"), with no link to you. Names and other capitalised '
        "words the guide does not know, e-mail addresses, @usernames, links, phone and document "
        "numbers and any number of five or more digits are dropped first. A note you send "
        "with “Report outdated or wrong” is kept as you wrote it, with the same numbers, "
        "e-mail addresses and @usernames masked, and with only the article and the month: "
        "nothing links it to you, so /forget cannot find it either.\n\n"
        "<b>Survey answers</b> are option codes filed under a pseudonym made with the wave's "
        "own key, with the week you answered. When a wave closes its key is destroyed: from "
        "then on nobody, the operator included, can link its answers to anyone, and /forget "
        "can no longer find them either (they stay only in anonymous totals). While a wave is "
        "open, /forget deletes your answers. If you asked to hear about new waves, your chat "
        "id is kept encrypted, apart from the answers, with nothing linking the two.\n\n"
        "<b>Published figures</b> never show a group smaller than the minimum cell size, nor "
        "let one be worked out from the other figures. They are updated only once at least "
        "that many people have answered or changed their answers, so no single person's "
        "answer moves them.\n\n"
        "<b>What I never store:</b> your Telegram id, chat id, name, username, phone or the "
        "texts of your messages (other than such a note). The logs mask every id, and when "
        "a reply from Telegram or an update cannot be read, the log names only the error and "
        "the method, never the content.\n\n"
        "<b>If someone copied the database</b> without the secret key, they would see only "
        "random-looking pseudonyms and language codes: not who you are, nor whether you have "
        "used the bot. The key is kept apart from the database.\n\n"
        "To leave any dialogue, send /cancel."
    )


async def show_privacy(message: Message) -> None:
    await message.answer(privacy_text())


async def privacy_from_menu(query: CallbackQuery) -> None:
    await edit_or_send(query, privacy_text(), main_menu_keyboard())


def create_router() -> Router:
    router = Router(name="privacy")
    router.message.register(show_privacy, Command("privacy"))
    router.callback_query.register(privacy_from_menu, MenuCallback.filter(F.action == "privacy"))
    return router
