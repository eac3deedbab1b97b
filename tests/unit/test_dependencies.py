"""Dependencies: the locks pin every transitive dependency with hashes, agree with requirements*.txt and with each
other, and the Lambda lock holds nothing the functions must not ship."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
NEVER_SHIPPED = {
    "setuptools": "pkg_resources is gone with twitter-text-parser",
    "twitter-text-parser": "seva.tweetlength does the weighting",
    "phonenumbers": "phonenumberslite has what officers.py uses",
    "aws-xray-sdk": "Active tracing gives Lambda's segments; no Tracer",
}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock(name: str) -> dict[str, tuple[str, list[str]]]:
    """package → (version, hashes) from a `uv pip compile --generate-hashes` file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = norm(match[1])
            entries[current] = (match[2], [])
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return entries


def direct_pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.split("#")[0].strip())
        if match:
            pins[norm(match[1])] = match[2]
    return pins


@pytest.mark.parametrize("name", ["requirements.lock", "requirements-dev.lock"])
def test_given_a_lock_then_every_package_is_pinned_with_a_hash(name):
    entries = lock(name)
    assert len(entries) > 20
    assert [p for p, (_, hashes) in entries.items() if not hashes] == []
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for _, hashes in entries.values() for h in hashes)


@pytest.mark.parametrize(
    ("source", "name"), [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]
)
def test_given_the_requirements_then_the_lock_pins_the_same_versions(source, name):
    """Edited requirements*.txt without `make lock`: this fails."""
    locked = lock(name)
    assert {p: v for p, v in direct_pins(source).items() if locked.get(p, (None,))[0] != v} == {}


def test_given_both_locks_then_the_lambda_packages_have_the_same_versions_in_dev():
    runtime, dev = lock("requirements.lock"), lock("requirements-dev.lock")
    assert {p: (v, dev.get(p, (None,))[0]) for p, (v, _) in runtime.items() if dev.get(p, (None,))[0] != v} == {}


def test_given_the_lambda_lock_then_nothing_that_must_not_ship_is_in_it():
    runtime = lock("requirements.lock")
    assert {p: why for p, why in NEVER_SHIPPED.items() if p in runtime} == {}
    assert "phonenumberslite" in runtime


def test_given_the_template_then_every_function_is_built_by_the_makefile():
    """functions/Makefile installs the lock and ships .pyc; SAM's default builder would do neither."""
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)
    functions = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions
    assert {k for k, r in functions.items() if (r.get("Metadata") or {}).get("BuildMethod") != "makefile"} == set()
