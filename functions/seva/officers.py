"""Officers who receive complaints: validated records and who gets what (pure logic)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

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
    phone: str
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


def district_key(code: int | None) -> str:
    return str(code) if code is not None else "HQ"
