"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from cati.models.calls import Answer, Attempt, CallEvent, HotlineMessage
from cati.models.cases import Case, Office, OptOut
from cati.models.counter import CounterAnswer, CounterRating, Kiosk, OfficeQr
from cati.models.follow_ups import DigestSend, FollowUp, FollowUpChange, FollowUpReason
from cati.models.rounds import Member, MemberStatus, Round, RoundOffice, RoundStatus
from cati.models.scheduler import SchedulerJob, SchedulerNode
from cati.models.users import AuditEvent, Role, User
from cati.models.web import WebLink

__all__ = [
    "Answer",
    "Attempt",
    "AuditEvent",
    "CallEvent",
    "Case",
    "CounterAnswer",
    "CounterRating",
    "DigestSend",
    "FollowUp",
    "FollowUpChange",
    "FollowUpReason",
    "HotlineMessage",
    "Kiosk",
    "Member",
    "MemberStatus",
    "Office",
    "OfficeQr",
    "OptOut",
    "Role",
    "Round",
    "RoundOffice",
    "RoundStatus",
    "SchedulerJob",
    "SchedulerNode",
    "User",
    "WebLink",
]
