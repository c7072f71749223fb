"""Personal survey links of web-mode members (issue 15): only a hash of each link is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cati.db import Base, UTCDateTime


class WebLink(Base):
    """A member's link `{CATI_PUBLIC_URL}/s/<token>`.

    The token itself is never stored: `token_hash` (SHA-256 of it) finds the member when the
    link is opened, and `nonce` with CATI_SECRET_KEY lets `cati rounds links` derive the same
    token again (see `cati.domain.web_links`). The link works until the round's calling
    period ends.
    """

    __tablename__ = "web_links"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the invitation SMS was sent (CATI_SMS=1), or claimed for sending; None: not yet.
    sms_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the provider refused it for good (an invalid or non-mobile number: "invalid_number
    # 21614"); None when sent or not tried. Such a member is not sent another.
    sms_error: Mapped[str | None] = mapped_column(String(64))
