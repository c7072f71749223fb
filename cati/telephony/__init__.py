"""Telephony providers. Only this package talks to a provider's SDK (twilio)."""

from __future__ import annotations

from functools import cache

from cati.config import Settings, SettingsError
from cati.telephony.base import Provider


def make_provider(settings: Settings) -> Provider:
    """The provider named by CATI_TELEPHONY, checked for the settings it needs."""
    if settings.telephony == "twilio":
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
                ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
                ("CATI_CALLER_ID", settings.caller_id),
            )
            if not value
        ]
        if missing:
            raise SettingsError(f"CATI_TELEPHONY=twilio needs {', '.join(missing)}")
        from cati.telephony.twilio import TwilioProvider

        return TwilioProvider(settings.twilio_account_sid, settings.twilio_auth_token)
    return simulated_provider()


@cache
def simulated_provider() -> Provider:
    """One simulated provider per process, shared by the dialer and the simulated citizens."""
    from cati.telephony.simulated import SimulatedProvider

    return SimulatedProvider()
