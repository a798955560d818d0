"""WhatsApp channel via Wazzup24 (issue #4)."""
