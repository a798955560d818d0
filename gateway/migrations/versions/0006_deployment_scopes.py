"""security: revoke API keys holding a deployment scope (internal, operator) that no environment token wrote

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00

Earlier versions let a tenant's admin key make keys with the `internal` scope through the admin
API, and such a key could read and answer every tenant's tasks. The deployment's own keys (the
managed ones, written from WORKER_TOKEN and ADMIN_TOKEN) are left alone.
"""

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

_DEPLOYMENT_SCOPES = {"internal", "operator"}

_api_key = sa.table(
    "api_key",
    sa.column("id", sa.String),
    sa.column("scopes", sa.JSON),
    sa.column("managed", sa.Boolean),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
)


def _scopes(value: object) -> set[str]:
    # A JSON column comes back decoded; a driver that hands back the text is read here too.
    decoded = json.loads(value) if isinstance(value, str | bytes) else value
    return {str(s) for s in decoded} if isinstance(decoded, list) else set()


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_api_key.c.id, _api_key.c.scopes).where(
            _api_key.c.managed == sa.false(), _api_key.c.revoked_at.is_(None)
        )
    )
    doomed = [key_id for key_id, scopes in rows if _scopes(scopes) & _DEPLOYMENT_SCOPES]
    if doomed:
        log.warning("revoking %d API key(s) that hold a deployment scope: %s", len(doomed), ", ".join(doomed))
        bind.execute(_api_key.update().where(_api_key.c.id.in_(doomed)).values(revoked_at=datetime.now(UTC)))


def downgrade() -> None:
    # A revoked key stays revoked: bringing an escalation back is never wanted.
    pass
