"""A library's module imported without one it names but this bot never uses.

While `module` is imported, a stand-in takes the unused module's place, each of its names a
function that imports the real module when first called; the stand-in is gone again at once,
so any later import of the unused module gets the real one.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any


def import_without(module: str, unused: str, *names: str) -> None:
    """Import `module` while `unused` (whose `names` it binds) stands in, not loaded."""
    if module in sys.modules or unused in sys.modules:
        importlib.import_module(module)  # too late to save anything, or nothing to save
        return
    stand_in = types.ModuleType(unused)
    for name in names:
        setattr(stand_in, name, _on_first_call(unused, name))
    sys.modules[unused] = stand_in
    try:
        importlib.import_module(module)
    finally:
        if sys.modules.get(unused) is stand_in:
            del sys.modules[unused]


def _on_first_call(module: str, name: str) -> Callable[..., Any]:
    def call_real(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call_real.__name__ = call_real.__qualname__ = name
    return call_real
