"""Mechanisms every Parley service repeats, written once: background loops, backoff and the
errors worth retrying, and the Redis-stream consumer. The services import these, never each other."""
