"""Community polls: parsing admins' commands, close times, and what a poll may show."""
