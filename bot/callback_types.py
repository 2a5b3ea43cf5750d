"""Field types for `CallbackData` factories: callback data can be forged, so every number in it
is bounded to what the database can hold, and anything else fails to unpack (a stale button)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# SQLite's INTEGER is a signed 64-bit number; a larger id would raise deep in a query.
MAX_STORED_ID = 2**63 - 1

StoredId = Annotated[int, Field(ge=0, le=MAX_STORED_ID)]
