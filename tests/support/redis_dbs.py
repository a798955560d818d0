"""Which Redis database (of the server's 16) each test stack uses: assigned here and nowhere else.

A stack that lives for the whole session has a database no other test touches: a second gateway
on the same database would share its RQ queues (another stack's worker would take its jobs) and
its reconciler's lock (one would starve the other), and a test flushing it would wipe its state.
Stacks that live for a module or a test take turns on the shared ones: each flushes its database
when it starts (tests/support/stack.py:start_stack), and tests run one at a time.
"""

# For the whole session, each alone on its database.
PARTNER_STACK = 10
SQLITE_STACK = 11
POSTGRES_STACK = 12
SECURITY_SQLITE = 1
SECURITY_POSTGRES = 2

# Taken in turn by module- and test-scoped stacks.
INGESTION_LIMITS = HYGIENE = SSRF = 0
DATABASE_OUTAGE = WORKER_SHUTDOWN = PRODUCTS_POSTGRES = ADMIN_CONVERSATIONS = 3
CONFORMANCE = TASK_LEASE = IDEMPOTENCY = RECONCILER = LIMITS = PRODUCTS_SQLITE = ORDERING = 4
TELEGRAM = 5
METRICS = MONITORING = 6
TELEGRAM_UNITS = RUNTIME = 7
WHATSAPP = 8
WHATSAPP_UNITS = 9
CALLBACKS = PARTNER_STACK  # settings only: its claim test runs no gateway and no worker
GROUNDED = TOKEN_STREAM = BROKEN_MODEL = UPGRADE = CURATED_POSTGRES = BURST = 13
CHROMA_SERVER = COMPOSE = CURATED_SQLITE = NEEDS_PERSON_SQLITE = 14
OPENAI_PROVIDER = NEEDS_PERSON_POSTGRES = 15
# scripts/run.py's ensure_redis only pings: it shares the SQLite stack's database.
MAKE_RUN = SQLITE_STACK
