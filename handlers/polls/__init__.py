"""Community polls in group chats: commands, the private wizard, templates, known chats."""
