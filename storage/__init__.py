"""Persistence behind one interface. Imports nothing from aiogram or the rest of Vyraj."""

from storage.interface import (
    ArticleStats,
    ChatRecord,
    DigestRecord,
    DigestRepository,
    FsmRepository,
    KnowledgeStatsRepository,
    MetaRepository,
    Poll,
    PollRepository,
    PreferencesRepository,
    Storage,
    Subscriber,
    SubscriptionRepository,
    SurveyRepository,
    UnansweredQuestion,
    Wave,
    WaveAlreadyOpenError,
)
from storage.sqlite import SqliteStorage, open_storage

__all__ = [
    "ArticleStats",
    "ChatRecord",
    "DigestRecord",
    "DigestRepository",
    "FsmRepository",
    "KnowledgeStatsRepository",
    "MetaRepository",
    "Poll",
    "PollRepository",
    "PreferencesRepository",
    "SqliteStorage",
    "Storage",
    "Subscriber",
    "SubscriptionRepository",
    "SurveyRepository",
    "UnansweredQuestion",
    "Wave",
    "WaveAlreadyOpenError",
    "open_storage",
]
