"""Persistence behind one interface. Imports nothing from aiogram or the rest of Vyraj."""

from storage.interface import FsmRepository, MetaRepository, PreferencesRepository, Storage
from storage.sqlite import SqliteStorage, open_storage

__all__ = [
    "FsmRepository",
    "MetaRepository",
    "PreferencesRepository",
    "SqliteStorage",
    "Storage",
    "open_storage",
]
