"""Secrets through powertools Parameters (cached per warm container, never logged)."""

from __future__ import annotations

from typing import Any


def get_json_secret(name: str, max_age: int = 300) -> dict[str, Any]:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(name, transform="json", max_age=max_age)
    if not isinstance(value, dict):
        raise ValueError(f"secret {name!r} is not a JSON object")
    return value
