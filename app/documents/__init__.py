from beanie import Document

from app.documents.ai import AiUsage
from app.documents.audit import AuditEvent
from app.documents.canned import CannedResponse
from app.documents.contact import Contact
from app.documents.kb import Article
from app.documents.message import Message
from app.documents.people import (
    AccountToken,
    ApiToken,
    Invitation,
    LoginSession,
    Membership,
    User,
)
from app.documents.ticket import Ticket
from app.documents.workspace import Counter, Team, Workspace

ALL_DOCUMENTS: list[type[Document]] = [
    Workspace,
    Team,
    Counter,
    User,
    Membership,
    Invitation,
    ApiToken,
    AccountToken,
    LoginSession,
    Contact,
    Ticket,
    Message,
    CannedResponse,
    Article,
    AuditEvent,
    AiUsage,
]

__all__ = [
    "ALL_DOCUMENTS",
    "AccountToken",
    "AiUsage",
    "ApiToken",
    "Article",
    "AuditEvent",
    "CannedResponse",
    "Contact",
    "Counter",
    "Invitation",
    "LoginSession",
    "Membership",
    "Message",
    "Team",
    "Ticket",
    "User",
    "Workspace",
]
