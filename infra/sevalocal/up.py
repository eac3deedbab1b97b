"""``seva up``: the local cloud with the web app, playing a scenario with simulated officers, until stopped.

Prints one line each: ``dashboard: URL``, ``login (state cell): URL``, ``login (district): URL``, ``public: URL``.
The login URLs carry a demo user's password in the fragment (never sent to a server); the page signs in with it
once and removes it from the address bar. The demo users' passwords are random for each run."""

from __future__ import annotations

import base64
import json
import secrets
import signal
import sys
import threading
from pathlib import Path

from sevalocal.aws import infra_client
from sevalocal.demo import DemoOptions, LocalCloud
from sevalocal.officers_sim import OfficerBehaviour, OfficerSimulator
from sevalocal.scenario import load_scenario

DEMO_DISTRICT = "162"  # Lucknow: the bundled scenario's busiest district


def demo_user(cloud: LocalCloud, username: str, district: str, officer_id: str | None, group: str) -> str:
    """A user of the pool as the state cell would create one; the login URL's fragment for it."""
    idp = infra_client("cognito-idp", cloud.aws.url)
    pool = next(iter(cloud.deployment.user_pools.values()))
    password = f"Seva-{secrets.token_urlsafe(12)}-9a"
    attributes = [{"Name": "custom:district", "Value": district}]
    if officer_id:
        attributes.append({"Name": "custom:officer_id", "Value": officer_id})
    idp.admin_create_user(UserPoolId=pool, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    blob = json.dumps({"u": username, "p": password}).encode()
    return "#signin=" + base64.urlsafe_b64encode(blob).decode().rstrip("=")


def run_up(scenario: Path, port: int, speed: float = 60.0, stop: threading.Event | None = None) -> int:
    stop = stop or threading.Event()
    options = DemoOptions(scenario=scenario, speed=speed, quiet=True, port=port)
    items = load_scenario(scenario)
    # Ctrl-C reaches the whole process group: the local cloud's processes ignore it (inherited), and this one stops
    # them in order (the emulator first, then AWS), so stopping prints no traceback
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cloud = LocalCloud(options)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        cloud.emulator.wait_ready()
        halt = cloud.emulator.serve()
        cloud.publish(items)
        phones = {o.phone: o.officer_id for o in cloud.officers}
        officers = OfficerSimulator(
            lambda: cloud.aws.published, phones, speed, OfficerBehaviour(never_share=0.2), cloud.reply_on_x
        ).start()
        cloud.simulator = officers
        sp = next((o for o in cloud.officers if o.district == DEMO_DISTRICT), None)
        cell = demo_user(cloud, "demo.state-cell", "HQ", None, "state_cell")
        district = demo_user(cloud, "demo.district", DEMO_DISTRICT, sp.officer_id if sp else None, "district")
        print(f"dashboard: {cloud.url}/", flush=True)
        print(f"login (state cell): {cloud.url}/{cell}", flush=True)
        print(f"login (district): {cloud.url}/{district}", flush=True)
        print(f"public: {cloud.url}/public.html", flush=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
        print("seva up: stopping (officers, functions, then AWS)…", file=sys.stderr, flush=True)
        officers.stop()
        halt()
        return 0
    finally:
        cloud.close()
        print("seva up: stopped", file=sys.stderr, flush=True)
