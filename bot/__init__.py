"""Vyraj: wiring (settings, factories, runners, CLI, the local sandbox)."""

import os

from bot.lean_imports import import_without

# numpy's BLAS starts a thread per core even for the tiny SVDs of cross-tab suppression; on a
# small, busy machine they spin against the event loop (a snapshot took 0.3 s instead of
# 5 ms). Set before numpy is first imported; a value the operator gives wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# aiogram's i18n imports babel.support only for LazyProxy (lazy_gettext, which Vyraj does not
# use), and with it Babel's date and number formatting: ~0.5 MiB idle. Before any of ours
# imports aiogram's i18n.
import_without("aiogram.utils.i18n", "babel.support", "LazyProxy")
