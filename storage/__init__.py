"""Persistence behind one interface. Imports nothing from aiogram or the rest of Vyraj."""

from storage.interface import (
    ArticleStats,
    FsmRepository,
    KnowledgeStatsRepository,
    MetaRepository,
    PreferencesRepository,
    Storage,
    UnansweredQuestion,
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
    "UnansweredQuestion",
    "open_storage",
]
