"""Sending web rounds' invitation SMS (CATI_SMS=1), part of each dialing pass.

Sent by the dialing pass (the scheduler's `dialing` job and `cati dial`), before its calls,
inside calling hours only: a claim committed first (the intent), then the provider asked,
then the result committed (see `cati.services.sms`). At most `SMS_PER_PASS` a pass, so a large
round does not hold up the calls; the next pass sends more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from cati.domain.sms import SmsTextError, invitation_sms
from cati.domain.web_links import derive_token, token_hash
from cati.runtime import Runtime
from cati.services.sms import claim_invitations, record_refused_invitation, release_invitation
from cati.services.web_links import hotline_text, link_url
from cati.telephony.base import ErrorKind, Provider, ProviderError

log = logging.getLogger(__name__)
SMS_PER_PASS = 200


@dataclass
class SmsReport:
    sent: int = 0
    refused: int = 0  # the provider will never deliver it (invalid number): recorded
    deferred: int = 0  # not sent now (the provider failed for now, or we cannot): given back


def send_invitations(
    runtime: Runtime,
    provider: Provider,
    round_id: int | None = None,
    *,
    should_stop: Callable[[], bool] = lambda: False,
) -> SmsReport:
    """Send the invitations due (of one round, or of every open web round), in calling hours
    only and when CATI_SMS=1; nothing otherwise."""
    settings = runtime.settings
    report = SmsReport()
    now = runtime.clock()
    if not settings.sms or not settings.calling_policy.is_callable_at(now):
        return report
    with runtime.transaction() as session:
        claimed = claim_invitations(session, now, SMS_PER_PASS, round_id)
    key = settings.resolve_secret_key()
    hotline = hotline_text(settings)
    for index, invitation in enumerate(claimed):
        problem = None
        if should_stop():
            problem = "the scheduler is stopping"
        token = derive_token(key, invitation.member_id, invitation.nonce)
        if problem is None and not hotline:
            problem = "no CATI_HOTLINE (or CATI_CALLER_ID) for the SMS to name"
        if problem is None and token_hash(token) != invitation.token_hash:
            problem = "CATI_SECRET_KEY is not the key the round's links were made with"
        body = None
        if problem is None:
            try:
                body = invitation_sms(
                    settings.organisation,
                    invitation.office_name,
                    invitation.office_code,
                    link_url(settings.public_url, token),
                    hotline,
                )
            except SmsTextError as exc:
                problem = f"{exc} (shorten CATI_ORGANISATION or CATI_PUBLIC_URL)"
        if problem is not None:
            # Nothing more can go this pass: every claim left is given back, untouched.
            with runtime.transaction() as session:
                for left in claimed[index:]:
                    release_invitation(session, left.member_id)
            report.deferred += len(claimed) - index
            log.warning("sms: %d invitations not sent: %s", len(claimed) - index, problem)
            return report
        try:
            sid = provider.send_sms(invitation.phone, body, settings.sms_sender)
        except ProviderError as error:
            with runtime.transaction() as session:
                if error.kind is ErrorKind.INVALID_NUMBER:
                    record_refused_invitation(
                        session, invitation.member_id, f"{error.kind} {error.code or ''}".strip()
                    )
                    report.refused += 1
                else:
                    release_invitation(session, invitation.member_id)
                    report.deferred += 1
            # The provider's message may quote the number: the code and kind only.
            log.warning(
                "sms: member %s not sent: %s (code %s)",
                invitation.member_id,
                error.kind,
                error.code,
                extra={"member_id": invitation.member_id, "error_code": error.code},
            )
            if error.kind is ErrorKind.FATAL:  # our side (credentials, sender): stop for now
                with runtime.transaction() as session:
                    for left in claimed[index + 1 :]:
                        release_invitation(session, left.member_id)
                report.deferred += len(claimed) - index - 1
                return report
        else:
            report.sent += 1
            log.info(
                "sms: member %s sent as %s",
                invitation.member_id,
                sid,
                extra={"member_id": invitation.member_id},
            )
    return report
