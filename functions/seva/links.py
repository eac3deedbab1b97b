"""One-tap action links for officers: short, HMAC-signed, expiring, bound to one officer and one complaint.

A token packs (key id, complaint id, a 24-bit officer digest, expiry in whole hours) and an HMAC-SHA256 over
them truncated to 72 bits (forging one takes ~2^71 guesses at the API), in URL-safe base64: 24 bytes, 32
characters, so that a Hindi SMS (UCS-2, 134 characters in two segments) keeps room for the complaint.
Opening the link never changes anything (SMS apps, mail scanners and link previews fetch links): it shows
the complaint and the actions; a confirmation (POST) acts. The key lives in Secrets Manager; several keys may
be live at once, so a key can be rotated without breaking links already sent. Pure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_LAYOUT = struct.Struct(">BQ3s3s")  # key id, complaint (tweet) id, officer digest, expiry (epoch hours, 24 bits)
_MAC = 9  # bytes of HMAC-SHA256 kept


class LinkRefused(Exception):
    """Why a link does not act: one clear sentence for the officer."""


@dataclass(frozen=True)
class LinkKeys:
    keys: dict[int, bytes]  # key id -> secret
    current: int

    @classmethod
    def from_secret(cls, secret: dict) -> LinkKeys:
        """{"keys": {"1": "...", "2": "..."}, "current": "2"}, or as generated at deploy {"key": "...",
        "current": "1"}."""
        raw = secret.get("keys") or {str(secret.get("current", "1")): secret["key"]}
        keys = {int(k): bytes.fromhex(v) if _is_hex(v) else v.encode() for k, v in raw.items()}
        return cls(keys, int(secret.get("current", 1)))


def _is_hex(value: str) -> bool:
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return len(value) >= 32


def officer_digest(officer_id: str) -> bytes:
    return hashlib.sha256(officer_id.encode()).digest()[:3]


@dataclass(frozen=True)
class Link:
    complaint_id: str
    officer_id_digest: bytes
    expires: datetime

    def is_for(self, officer_id: str) -> bool:
        return hmac.compare_digest(self.officer_id_digest, officer_digest(officer_id))


def make_token(keys: LinkKeys, complaint_id: str, officer_id: str, expires: datetime) -> str:
    hours = -(-int(expires.timestamp()) // 3600)  # rounded up to the hour
    body = _LAYOUT.pack(keys.current, int(complaint_id), officer_digest(officer_id), hours.to_bytes(3, "big"))
    mac = hmac.new(keys.keys[keys.current], body, hashlib.sha256).digest()[:_MAC]
    return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def read_token(keys: LinkKeys, token: str, now: datetime) -> Link:
    """The link a token stands for; ``LinkRefused`` with a reason an officer understands otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise LinkRefused("This link is broken: it may have been cut short. Open it again from the SMS.") from None
    if len(raw) != _LAYOUT.size + _MAC:
        raise LinkRefused("This link is broken: it may have been cut short. Open it again from the SMS.")
    body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    key_id, complaint_id, digest, expires_hours = _LAYOUT.unpack(body)
    key = keys.keys.get(key_id)
    if key is None or not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()[:_MAC]):
        raise LinkRefused("This link is not valid (it was changed or not issued by Seva).")
    expires = datetime.fromtimestamp(int.from_bytes(expires_hours, "big") * 3600, UTC)
    if expires < now:
        raise LinkRefused("This link has expired. Use the Seva app or the newest SMS for this complaint.")
    return Link(str(complaint_id), digest, expires)


def link_expiry(now: datetime, resolve_due: datetime | None, at_least: timedelta = timedelta(days=3)) -> datetime:
    """Valid until the complaint should be resolved, and at least a few days."""
    return max(now + at_least, (resolve_due or now) + timedelta(days=1))
