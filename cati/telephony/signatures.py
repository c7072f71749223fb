"""Webhook signatures (X-Twilio-Signature), the same for Twilio and the simulated citizens."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def sign(token: str, url: str, params: Mapping[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, dict(params))


def is_valid_signature(token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Check a signature over the full public URL and every POST parameter received."""
    return bool(signature) and RequestValidator(token).validate(url, dict(params), signature)
