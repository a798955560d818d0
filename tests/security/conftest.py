"""The attacks of issue #15, each a test: a gateway without a worker on SQLite and on PostgreSQL.

Every test under tests/security/ carries the `security` marker (`pytest -m security`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_database, redis_url
from tests.support.stack import Stack, start_stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.security)


@pytest.fixture(scope="session")
def sqlite_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A gateway on SQLite with no worker: what an attacker reaches over HTTP."""
    workdir = Path(tmp_path_factory.mktemp("security-sqlite"))
    stack = start_stack(
        name="security-sqlite",
        workdir=workdir,
        database_url=f"sqlite:///{workdir / 'parley.db'}",
        redis_url=redis_url(2),
    )
    yield stack
    stack.close()


@pytest.fixture(scope="session")
def postgres_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A gateway on PostgreSQL with no worker."""
    with fresh_postgres_database("parley_security") as database_url:
        stack = start_stack(
            name="security-postgres",
            workdir=Path(tmp_path_factory.mktemp("security-postgres")),
            database_url=database_url,
            redis_url=redis_url(8),
        )
        yield stack
        stack.close()


@pytest.fixture(params=["sqlite", "postgres"])
def gateway(request: pytest.FixtureRequest) -> Stack:
    """The same attack against both databases."""
    found: Stack = request.getfixturevalue(f"{request.param}_gateway")
    return found
