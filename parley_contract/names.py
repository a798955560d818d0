"""Names that two services must agree on: queues, jobs, Redis keys and streams."""

DEFAULT_TENANT_ID = "default"

# RQ queues. A worker process takes them in two lanes, so that an answer never waits behind a document:
# its main RQ worker listens to ANSWER_QUEUES in this order (short interactive jobs first), a second
# one in a thread of the same process (same models, same embedded store) to INGEST_QUEUES.
QUEUE_HIGH = "parley-high"
QUEUE_ANSWERS = "parley-answers"
QUEUE_INGEST = "parley-ingest"
ANSWER_QUEUES = (QUEUE_HIGH, QUEUE_ANSWERS)
INGEST_QUEUES = (QUEUE_INGEST,)
WORKER_QUEUES = ANSWER_QUEUES + INGEST_QUEUES

# Jobs are enqueued by dotted name with JSON arguments only.
JOB_ANSWER = "ai_worker.jobs.answer_task"
JOB_SEARCH = "ai_worker.jobs.search_knowledge"
JOB_INGEST = "ai_worker.jobs.ingest_document"
JOB_DELETE_DOCUMENT = "ai_worker.jobs.delete_document"

# Redis keys.
WORKER_STATUS_PREFIX = "parley:worker-status:"  # + worker name -> JSON, with a TTL
TASK_EVENTS_CHANNEL = "parley:task-events"  # pub/sub: task id when a task finishes
KNOWLEDGE_VERSION_PREFIX = "parley:kb-version:"  # + tenant id -> int, bumped on every change


def reply_stream(channel: str) -> str:
    """The Redis stream a channel adapter consumes replies from."""
    return f"parley:replies:{channel}"


#: How long a task's token stream is kept after its last piece.
TASK_TOKENS_TTL_SECONDS = 300


def task_tokens_stream(task_id: str) -> str:
    """The Redis stream a worker appends an answer's pieces to while generating (fields `text`, `attempt`)."""
    return f"parley:task-tokens:{task_id}"
