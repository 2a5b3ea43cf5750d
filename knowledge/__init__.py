"""The relocation guide's articles, installed with Vyraj as the data package `bot.knowledge`."""
