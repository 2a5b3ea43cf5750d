"""Starting on PostgreSQL: reach the server within a time budget, and say in one line (never
with the password) why it could not be used."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import asyncpg

from bot.app import KeyMismatchError
from bot.telegram_retry import EXIT_CONFIG, StartBudget, StartupError
from storage.migrations import SchemaTooNewError
from storage.opening import describe_server
from storage.postgres import KeyVaultError, SchemaOutdatedError
from storage.postgres.key_vault import KeyVault

if TYPE_CHECKING:
    from bot.settings import Settings

T = TypeVar("T")

# A server still starting (a compose stack coming up together) gets this long to answer.
DATABASE_START_SECONDS = 10.0
_FIRST_DELAY = 0.2
_MAX_DELAY = 2.0


async def check_key_vault(settings: Settings) -> None:
    """KEY_VAULT_DIR is a folder this process can create and write, or one line says why not."""
    assert settings.key_vault_dir is not None  # required with PostgreSQL (settings)
    try:
        await asyncio.to_thread(KeyVault.create, settings.key_vault_dir)
    except KeyVaultError as exc:
        raise StartupError(f"KEY_VAULT_DIR: {exc}", EXIT_CONFIG) from None


async def open_on_postgres(
    opening: Callable[[], Awaitable[T]], url: str, budget: StartBudget | None = None
) -> T:
    """`opening()`, retried while the server cannot be reached yet; a failure becomes one line."""
    budget = budget or StartBudget.from_now(DATABASE_START_SECONDS)
    where = describe_server(url)
    delay = _FIRST_DELAY
    while True:
        try:
            return await opening()
        except (OSError, asyncpg.CannotConnectNowError, TimeoutError) as exc:
            if budget.remaining() <= delay:
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                raise StartupError(
                    f"DATABASE_URL: no PostgreSQL server answers at {where} ({reason}); "
                    "is it running?"
                ) from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_DELAY)
        except asyncpg.InvalidPasswordError:
            raise StartupError(
                f"DATABASE_URL: {where} refused the password; check the user and password",
                EXIT_CONFIG,
            ) from None
        except asyncpg.InvalidAuthorizationSpecificationError as exc:
            raise StartupError(
                f"DATABASE_URL: {where} refused the connection ({exc}); check the user and "
                "the server's pg_hba.conf",
                EXIT_CONFIG,
            ) from None
        except asyncpg.InvalidCatalogNameError:
            database = urlsplit(url).path.lstrip("/")
            raise StartupError(
                f"DATABASE_URL: the database {database} does not exist at {where}; create it "
                f"first (createdb {database})",
                EXIT_CONFIG,
            ) from None
        except KeyVaultError as exc:
            raise StartupError(f"KEY_VAULT_DIR: {exc}", EXIT_CONFIG) from None
        except SchemaOutdatedError as exc:
            raise StartupError(f"DATABASE_URL: {exc}", EXIT_CONFIG) from None
        except SchemaTooNewError as exc:
            raise StartupError(
                f"DATABASE_URL: {exc}; run the newer Vyraj, or restore a backup", EXIT_CONFIG
            ) from None
        except KeyMismatchError as exc:
            raise StartupError(str(exc), EXIT_CONFIG) from None
        except asyncpg.PostgresError as exc:
            raise StartupError(
                f"DATABASE_URL: {where} cannot be used ({type(exc).__name__}: {exc})"
            ) from None
