"""Officers who receive complaints: validated records and who gets what (pure logic)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

ROLES = ("control_room", "sho", "co", "sp", "ssp", "cp", "dcp", "hq_cell")
RESERVED_TEST_PREFIXES = ("+447700900",)  # Ofcom's drama range: never a real subscriber
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


def normalise_phone(
    value: str, *, default_region: str = "IN", test_prefixes: tuple[str, ...] = RESERVED_TEST_PREFIXES
) -> str:
    """E.164 of a valid Indian mobile number (SMS goes to India only; AWS blocks other countries too), validated
    with phonenumbers. Numbers in reserved test ranges (never a real subscriber) are accepted as possible."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(test_prefixes) and phonenumbers.is_possible_number(number):
        return e164
    mobile = phonenumbers.number_type(number) in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == "IN" and mobile:
        return e164
    raise ValueError("not a valid Indian mobile number (officers' SMS go to India only)")


class Officer(BaseModel):
    model_config = {"frozen": True}

    district: str = Field(description="LGD district code, or HQ for the state cell")
    officer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=100)
    role: Literal["control_room", "sho", "co", "sp", "ssp", "cp", "dcp", "hq_cell"]
    phone: str = Field(repr=False)  # never in a repr, hence never in a log or an error that prints one
    email: str | None = None
    language: Literal["hi", "en"] = "en"
    priorities: tuple[Literal["P1", "P2", "P3"], ...] = ("P1", "P2", "P3")
    categories: tuple[str, ...] = ("*",)

    @field_validator("district")
    @classmethod
    def _district(cls, value: str) -> str:
        value = str(value).strip().upper()
        if value != "HQ" and not value.isdigit():
            raise ValueError("district must be an LGD code or HQ")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and not _EMAIL.match(value):
            raise ValueError("not an email address")
        return value or None

    def receives(self, priority: str, category: str) -> bool:
        if self.role == "control_room" and priority == "P1":
            return True  # every P1 reaches the district control room at once
        return priority in self.priorities and ("*" in self.categories or category in self.categories)


def masked(phone: str) -> str:
    """For logs: never a full phone number."""
    return phone[:3] + "*" * max(0, len(phone) - 5) + phone[-2:]


# A phone number written any way in free text: +CC and digits with spaces, dashes, dots or brackets, or a bare
# run of 10+ digits (an Indian mobile). Not an AWS account id inside an ARN (":123456789012:").
_PHONE_IN_TEXT = re.compile(r"\+\d[\d\s().-]{5,}\d|(?<![\d:/])\d{10,13}(?![\d:])")


def mask_phones(text: str) -> str:
    """Every phone number in a message masked: for errors and logs that may quote a value."""
    return _PHONE_IN_TEXT.sub(lambda m: masked(re.sub(r"[^\d+]", "", m.group())), text)


def mailbox_key(email: str) -> str:
    """The message attribute an officer's email carries and its subscription's filter keys on (with district and
    officer id): a short hash of the address, so a subscription left behind for an old address (one SNS could not
    remove yet, pending its confirmation) never matches an officer's mail again."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class InvalidOfficer:
    """A directory row that is not a valid officer: skipped (never the district's other officers)."""

    district: str
    officer_id: str
    problems: tuple[str, ...]

    def line(self) -> str:
        return f"officer {self.officer_id or '?'} in district {self.district or '?'}: {'; '.join(self.problems)}"


def problems(exc: ValidationError) -> tuple[str, ...]:
    """What is wrong, field by field, without the values (a phone number never reaches a log or an error)."""
    out = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error.get("loc", ())) or "record"
        out.append(f"{field}: {mask_phones(str(error.get('msg', 'invalid')))}")
    return tuple(out)


def parse_officer(raw: dict[str, Any]) -> Officer | InvalidOfficer:
    """A directory record as an officer, or what is wrong with it."""
    try:
        return Officer.model_validate(raw)
    except ValidationError as exc:
        return InvalidOfficer(str(raw.get("district") or ""), str(raw.get("officer_id") or ""), problems(exc))


def district_key(code: int | None) -> str:
    return str(code) if code is not None else "HQ"
