"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from cati.models.calls import Answer, Attempt, CallEvent, HotlineMessage
from cati.models.cases import Case, Office, OptOut
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
    "DigestSend",
    "FollowUp",
    "FollowUpChange",
    "FollowUpReason",
    "HotlineMessage",
    "Member",
    "MemberStatus",
    "Office",
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
