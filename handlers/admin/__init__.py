"""Commands for the bot's admins: the guide, survey waves, the digest."""
