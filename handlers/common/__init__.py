"""Shared plumbing: start, menu, language, privacy, cancel, forget, fallback, errors."""
