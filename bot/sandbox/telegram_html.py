"""Telegram's HTML parse mode: validation and the plain text a client would show."""

from __future__ import annotations

from html.parser import HTMLParser

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}


class EntityParseError(ValueError):
    """Mirrors Telegram's "can't parse entities" error."""


class _PlainTextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}"')
        self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags[-1] != tag:
            raise EntityParseError(f'Unmatched end tag "{tag}"')
        self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_plain(text: str) -> str:
    """The text Telegram would display for `text` sent with parse_mode=HTML."""
    parser = _PlainTextParser()
    parser.feed(text)
    parser.close()
    if parser.open_tags:
        tag = parser.open_tags[-1]
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
    return "".join(parser.parts)
