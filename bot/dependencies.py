"""What the dispatcher hands to handlers: every keyword argument, its one name and its type."""

from __future__ import annotations

from typing import TypedDict

from bot.chat_admins import ChatAdminCache
from bot.digest import DigestService
from bot.poll_actions import PollActions
from bot.shared.guide_reloads import GuideReloads
from bot.shared.wave_dialogues import WaveDialogues
from services.clock import Clock
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.reader_notes import NoteQuota
from services.knowledge.view_counts import ViewCounts
from services.policy import Policy
from services.privacy import Keyring
from services.survey.waves import WaveAnnouncer
from storage import Storage


class Dependencies(TypedDict):
    """Handlers ask for these by name; aiogram adds its own (bot, state, i18n, ...)."""

    storage: Storage
    keyring: Keyring
    policy: Policy
    clock: Clock
    library: KnowledgeLibrary
    guide_reloads: GuideReloads
    chat_admins: ChatAdminCache
    broadcaster: WaveAnnouncer
    wave_dialogues: WaveDialogues
    digest_service: DigestService
    poll_actions: PollActions
    note_quota: NoteQuota
    view_counts: ViewCounts
