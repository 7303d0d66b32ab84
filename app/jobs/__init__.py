"""Durable background jobs and timers for the worker process, on Redis Streams.

`JobQueue` enqueues and runs jobs (retries with backoff, dead letters, idempotency keys,
take-over of jobs whose worker died), `Timers` enqueues a job at a due time, `Periodic` jobs
are enqueued once per period across all workers, and `run_jobs` runs all of it.
"""

from app.jobs.config import JobConfig
from app.jobs.model import DeadJob, Handler, Job, JobError, QueueStats
from app.jobs.periodic import Periodic
from app.jobs.queue import JobQueue
from app.jobs.runner import consumer_name, run_jobs
from app.jobs.timers import Timers

__all__ = [
    "DeadJob",
    "Handler",
    "Job",
    "JobConfig",
    "JobError",
    "JobQueue",
    "Periodic",
    "QueueStats",
    "Timers",
    "consumer_name",
    "run_jobs",
]
