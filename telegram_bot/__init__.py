"""Telegram channel (issue #3)."""
