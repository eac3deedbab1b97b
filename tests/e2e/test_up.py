"""``seva up``: the local cloud with the web app, as a person starts it — four lines, then it serves until stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEVA = [sys.executable, "-m", "sevalocal.cli"]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()


def test_seva_up_prints_the_four_urls_serves_and_stops_cleanly(tmp_path):
    scenario = tmp_path / "one.jsonl"
    tweet = {"id": "2116832631868882944", "text": "@lucknowpolice chain snatching in Hazratganj just now", "lang": "en"}
    author = {"id": "1500000009", "username": "citizen_9", "name": "Citizen"}
    scenario.write_text(json.dumps({"at": 1, "tweet": tweet, "author": author}) + "\n", encoding="utf-8")
    with socket.socket() as s:  # a free port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [*SEVA, "up", "--scenario", str(scenario), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = [proc.stdout.readline().strip() for _ in range(4)]  # type: ignore[union-attr]
        assert [line.split(": ", 1)[0] for line in lines] == [
            "dashboard",
            "login (state cell)",
            "login (district)",
            "public",
        ], lines
        urls = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines}
        assert all(u.startswith(f"http://127.0.0.1:{port}/") for u in urls.values())
        assert "#signin=" in urls["login (state cell)"] and "#signin=" in urls["login (district)"]
        status, page = _get(urls["dashboard"])
        assert status == 200 and 'id="signin"' in page
        status, page = _get(urls["public"])
        assert status == 200 and 'id="districts"' in page
        config = json.loads(_get(f"http://127.0.0.1:{port}/public/config")[1])
        assert config["clientId"] and config["userPoolId"]
    finally:
        proc.send_signal(signal.SIGINT)
        end = time.time() + 60
        while proc.poll() is None and time.time() < end:
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err, err[-2000:]


def test_seva_up_with_a_missing_scenario_says_so_in_one_line(tmp_path):
    result = subprocess.run(
        [*SEVA, "up", "--scenario", str(tmp_path / "none.jsonl")], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 3 and result.stderr.strip().count("\n") == 0 and "no scenario file" in result.stderr
