"""Parley's gateway: accepts messages, stores them, queues jobs, serves the partner API."""
