"""The attacks of issue #15, each a test: a gateway without a worker on SQLite and on PostgreSQL.

Every test under tests/security/ carries the `security` marker (`pytest -m security`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parley_testkit.stack import Stack
from tests.support import redis_dbs as dbs
from tests.support.gateways import gateway_only


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.security)


@pytest.fixture(scope="session")
def sqlite_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A gateway on SQLite with no worker: what an attacker reaches over HTTP."""
    workdir = Path(tmp_path_factory.mktemp("security-sqlite"))
    with gateway_only(
        name="security-sqlite", workdir=workdir, database="sqlite", redis_db=dbs.SECURITY_SQLITE
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def postgres_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A gateway on PostgreSQL with no worker."""
    workdir = Path(tmp_path_factory.mktemp("security-postgres"))
    with gateway_only(
        name="security-postgres", workdir=workdir, database="postgres", redis_db=dbs.SECURITY_POSTGRES
    ) as stack:
        yield stack


@pytest.fixture(params=["sqlite", "postgres"])
def gateway(request: pytest.FixtureRequest) -> Stack:
    """The same attack against both databases."""
    found: Stack = request.getfixturevalue(f"{request.param}_gateway")
    return found
