"""How far the long runs go: sized for CI in `make test`, at full depth in `make bench`.

`PARLEY_TEST_DEPTH=full` (what `python -m bench.fulldepth` sets) runs the schemathesis conformance
test for its full time budget and the bounded load run at its full size; unset, they run the CI
size that `make test` keeps under its time budget. Both sizes make the same assertions.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

FULL = os.environ.get("PARLEY_TEST_DEPTH", "ci") == "full"


def sized(*, ci: T, full: T) -> T:
    """The value for this run's depth."""
    return full if FULL else ci
