"""Process launchers and emulators that tests/ and bench/ both use: real servers on loopback.

The gateway in a thread, services as their own processes, a whole stack, the Telegram bot, and the
stand-ins for the outside services (Telegram's Bot API, Wazzup24, a hosted LLM). Nothing here is
part of a deployed service; only tests/ and bench/ import it.
"""
