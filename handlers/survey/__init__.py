"""The relocation survey: the dialogue, its views, wave notifications and public figures."""
