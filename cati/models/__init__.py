"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from cati.models.cases import Case, Office, OptOut
from cati.models.rounds import Member, Round, RoundOffice, RoundStatus

__all__ = ["Case", "Member", "Office", "OptOut", "Round", "RoundOffice", "RoundStatus"]
