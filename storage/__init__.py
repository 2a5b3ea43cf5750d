"""Persistence behind one interface. Imports nothing from aiogram or the rest of Vyraj."""

from storage.interface import (
    ArticleStats,
    FsmRepository,
    KnowledgeStatsRepository,
    MetaRepository,
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
    "FsmRepository",
    "KnowledgeStatsRepository",
    "MetaRepository",
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
