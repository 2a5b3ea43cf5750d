"""Plain feature logic: no Telegram, no SQL."""
