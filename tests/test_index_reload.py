"""The guide's index is built in a worker thread, at start and on /kbreload; the edition in
service answers questions until the new one is complete."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from pathlib import Path

import pytest

from bot.app import create_vyraj
from bot.runners import serve_polling
from bot.sandbox.runtime import Sandbox
from services.knowledge import ArticleError
from services.knowledge import library as library_module
from services.knowledge.library import Edition, KnowledgeLibrary
from services.knowledge.search import answer_question

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
NEW_WORD = "Quokkaland"


class HeldBuild:
    """Replaces `build_edition`: each build waits until `release()`, records its thread and
    how many builds ran at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._real = library_module.build_edition
        self._loop = asyncio.get_running_loop()
        self._go = threading.Event()
        self.started = asyncio.Event()
        self.threads: list[threading.Thread] = []
        self.running = self.most_running = 0
        self._count = threading.Lock()
        monkeypatch.setattr(library_module, "build_edition", self)

    def __call__(self, root: Path) -> Edition:
        with self._count:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self.threads.append(threading.current_thread())
        self._loop.call_soon_threadsafe(self.started.set)
        try:
            self._go.wait(timeout=30)
            return self._real(root)
        finally:
            with self._count:
                self.running -= 1

    def release(self) -> None:
        self._go.set()


def copy_with_new_article(tmp_path: Path) -> Path:
    """A copy of the guide; `add_article` later adds one about NEW_WORD."""
    content = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, content)
    return content


def add_article(content: Path) -> None:
    for source in (content / "pl").glob("pbh.*.md"):
        text = source.read_text("utf-8").replace("id: pl-pbh", "id: pl-quokka")
        text = re.sub(r"title: .*", f'title: "{NEW_WORD} relocation"', text, count=1)
        text = text.replace("keywords:\n", f"keywords:\n  - {NEW_WORD}\n", 1)
        source.with_name(source.name.replace("pbh", "quokka")).write_text(text, "utf-8")


async def test_a_reload_builds_in_a_thread_and_the_old_edition_serves_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = copy_with_new_article(tmp_path)
    library = await KnowledgeLibrary.open(content)
    old = library.index
    before = len(library.base.ids)
    add_article(content)
    held = HeldBuild(monkeypatch)
    reload = asyncio.create_task(library.reload())
    await held.started.wait()  # the loop runs while the build is held
    assert held.threads[0] is not threading.main_thread()
    assert library.index is old
    assert answer_question(library.index, "PBH").article_id == "pl-pbh"
    assert answer_question(library.index, NEW_WORD).article_id is None
    held.release()
    assert await reload == before + 1
    assert library.index is not old
    assert answer_question(library.index, NEW_WORD).article_id == "pl-quokka"


async def test_a_broken_article_keeps_the_old_edition(tmp_path: Path) -> None:
    content = copy_with_new_article(tmp_path)
    library = await KnowledgeLibrary.open(content)
    old = library.index
    broken = content / "pl" / "pbh.ru.md"
    broken.write_text(re.sub(r"verified: [\d-]+", "verified: soon", broken.read_text("utf-8")))
    with pytest.raises(ArticleError):
        await library.reload()
    assert library.index is old


async def test_two_reloads_at_once_build_one_after_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = await KnowledgeLibrary.open(copy_with_new_article(tmp_path))
    held = HeldBuild(monkeypatch)
    reloads = [asyncio.create_task(library.reload()) for _ in range(2)]
    await held.started.wait()
    held.release()
    counts = await asyncio.gather(*reloads)
    assert counts[0] == counts[1]
    assert len(held.threads) == 2
    assert held.most_running == 1


async def test_questions_are_answered_while_kbreload_builds(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = copy_with_new_article(tmp_path)
    admin = sandbox.user("Admin", language_code="en")
    reader = sandbox.user("Reader", language_code="en")
    settings = sandbox.settings(admin_ids=str(admin.user.id), knowledge_dir=str(content))
    vyraj = await create_vyraj(settings, sandbox.secret_key.encode(), sandbox.clock)
    # As `vyraj run` serves: each update in its own task.
    task = asyncio.create_task(serve_polling(vyraj, handle_as_tasks=True, handle_signals=False))
    try:
        await vyraj.serving.wait()
        add_article(content)
        held = HeldBuild(monkeypatch)
        await sandbox.api.push_update(
            sandbox.api.message_update(admin.user, admin.chat, {"text": "/kbreload"})
        )
        await held.started.wait()
        await sandbox.api.push_update(
            sandbox.api.message_update(reader.user, reader.chat, {"text": "PBH"})
        )
        await sandbox.api.wait_until(lambda: "Sources:" in reader.last_text)
        assert not admin.bot_messages  # the reload is still building
        held.release()
        await sandbox.api.wait_until(lambda: "The guide is reloaded" in admin.last_text)
        await sandbox.api.push_update(
            sandbox.api.message_update(reader.user, reader.chat, {"text": NEW_WORD})
        )
        await sandbox.api.wait_until(lambda: f"{NEW_WORD} relocation" in reader.last_text)
    finally:
        await vyraj.dispatcher.stop_polling()
        await task
