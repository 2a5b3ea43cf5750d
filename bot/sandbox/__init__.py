"""A local Bot API server, a driver that acts as Telegram users, and a terminal chat."""
