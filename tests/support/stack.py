"""The stack moved to parley_testkit/stack.py (bench/ and tests/ share it); this name is kept for
the callers not yet moved (bench/answers.py). New code imports parley_testkit.stack."""

from parley_testkit.stack import SAMPLE_KB, TOKENS, Stack, gateway_settings, ready_workers, running_stack, start_stack

__all__ = ["SAMPLE_KB", "TOKENS", "Stack", "gateway_settings", "ready_workers", "running_stack", "start_stack"]
