"""What several instances of the bot share through Redis, each part with an in-process
stand-in for a single instance."""
