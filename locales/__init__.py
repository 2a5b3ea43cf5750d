"""The gettext catalogs, installed with Vyraj as the data package `bot.locales`."""
