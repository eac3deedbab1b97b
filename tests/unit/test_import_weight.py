"""Cold start: what a handler loads. No handler imports the X-Ray SDK, pkg_resources, twitter-text or
pydantic-settings; notify, reply and the API build their services (their first invocation) without loading triage.
Each check runs in a fresh interpreter, as a new Lambda container does. Timing: bench/coldstart_bench.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
NEVER = ("aws_xray_sdk", "pkg_resources", "twitter_text", "pydantic_settings", "setuptools")
ENV = {
    "POWERTOOLS_SERVICE_NAME": "seva",
    "COMPLAINTS_TABLE": "complaints",
    "STATE_TABLE": "state",
    "AUDIT_TABLE": "audit",
    "OFFICERS_TABLE": "officers",
    "OFFICER_EMAIL_TOPIC_ARN": "arn:aws:sns:ap-south-1:123456789012:email",
    "SOS_TOPIC_ARN": "arn:aws:sns:ap-south-1:123456789012:sos",
    "X_SECRET_NAME": "x-api",
    "X_USER_SECRET_NAME": "x-users",
    "LINK_KEY_SECRET_NAME": "link-key",
}


def loaded(code: str) -> set[str]:
    probe = f"import sys, json; sys.path.insert(0, {str(FUNCTIONS)!r}); {code}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=os.environ | ENV, capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in NEVER)


@pytest.mark.parametrize("handler", sorted(f"{app.parent.name}.app" for app in FUNCTIONS.glob("*/app.py")))
def test_given_a_new_container_when_the_handler_is_imported_then_nothing_heavy_is_loaded(handler):
    modules = loaded(f"import {handler}")
    assert heavy(modules) == []
    assert not any(m.startswith("seva.triage") for m in modules)
    assert "boto3" not in modules  # clients are built on the first invocation, by seva.bootstrap


@pytest.mark.parametrize(
    ("build", "settings"),
    [("notify_service", "NotifySettings"), ("reply_desk", "ReplySettings"), ("desk", "ApiSettings")],
)
def test_given_notify_reply_or_api_when_its_service_is_built_then_triage_is_not_loaded(build, settings):
    modules = loaded(f"from seva import bootstrap, settings; bootstrap.{build}(settings.{settings}.load())")
    assert not any(m.startswith("seva.triage") for m in modules)  # district names come from seva.districts
    assert heavy(modules) == []
