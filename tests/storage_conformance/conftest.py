from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Storage
from tests.storage_conformance.backends import BACKENDS, OpenStorage


@pytest.fixture(params=sorted(BACKENDS))
def open_backend(request: pytest.FixtureRequest) -> OpenStorage:
    """Opens a fresh storage of one backend; every conformance test runs once per backend."""
    return BACKENDS[str(request.param)](request)


@pytest.fixture
async def storage(open_backend: OpenStorage, tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_backend(tmp_path)
    try:
        yield opened
    finally:
        await opened.close()
