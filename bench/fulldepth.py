"""Full depth: the tests `make test` runs at a size for CI, run at their full size.

- `tests/gateway/test_openapi_conformance.py`: schemathesis with fuzzing repeated for 90 s per part
  (in `make test`: each phase once);
- `tests/e2e/test_load_run.py`: 200 messages at 40/s through the WhatsApp path (in `make test`: 100).

Both make the same assertions at either size (tests/support/depth.py); `PARLEY_TEST_DEPTH=full` is
what this sets. The prompt-injection test runs its whole set in `make test` already (~8 s).
`--quick` runs them at the CI size.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from bench.common import Section, cli
from parley_testkit.servers import ROOT

TESTS = ("tests/gateway/test_openapi_conformance.py", "tests/e2e/test_load_run.py")


def run(quick: bool) -> Section:
    depth = "ci" if quick else "full"
    section = Section("7. The long tests at full depth", "python -m bench.fulldepth" + (" --quick" if quick else ""))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--durations=0", *TESTS]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "PARLEY_TEST_DEPTH": depth}, capture_output=True, text=True, timeout=1800
    )
    took = time.perf_counter() - started
    report = done.stdout + done.stderr
    outcomes = dict(
        (test, outcome) for outcome, test in re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", report, re.MULTILINE)
    )
    calls = {test: float(seconds) for seconds, test in re.findall(r"^([0-9.]+)s call\s+(\S+)", report, re.MULTILINE)}
    section.add(f"`PARLEY_TEST_DEPTH={depth} python -m pytest {' '.join(TESTS)}`: {took:.0f} s in all.", "")
    section.table(
        ("test", "outcome", "time of the test itself"),
        [(f"`{test}`", outcome.lower(), f"{calls.get(test, 0.0):.0f} s") for test, outcome in outcomes.items()],
    )
    if done.returncode != 0:
        section.add("```", report[-6000:].rstrip(), "```")
        raise RuntimeError(f"the full-depth tests failed:\n{report[-6000:]}")
    return section


if __name__ == "__main__":
    cli("fulldepth", run)
