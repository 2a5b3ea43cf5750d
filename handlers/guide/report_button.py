"""The callback data of the "Report outdated or wrong" button, apart from its handlers so
that the article view (which shows the button) and the report dialogue (which answers a
late message as a question) can both import it."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ReportCallback(CallbackData, prefix="rp"):
    article: str
