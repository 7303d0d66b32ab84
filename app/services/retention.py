"""How long security records are kept: audit events for `TANDEM_AUDIT_RETENTION_DAYS` (365 by
default), ended or expired session records for a month. Run hourly by the worker."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.auth import session_store
from app.documents import AuditEvent
from app.documents.common import utcnow

RETENTION_JOB = "retention.sweep"


async def forget_expired_records(audit_days: int, now: datetime | None = None) -> tuple[int, int]:
    """Delete audit events older than `audit_days` and session records a month past their
    end; how many of each went."""
    moment = now or utcnow()
    audits = await AuditEvent.get_pymongo_collection().delete_many(
        {"at": {"$lt": moment - timedelta(days=audit_days)}}
    )
    sessions = await session_store.forget_old(moment)
    return audits.deleted_count, sessions
