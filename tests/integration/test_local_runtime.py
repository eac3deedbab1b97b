"""The local Lambda runtime's crash notes: what the demo's judge calls the documented window."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

INFRA = Path(__file__).parents[2] / "infra"

CRASHING_WORKER = """
import json, os, sys, urllib3
from sevalocal import runtime

class Pipe:
    def send(self, message):
        sys.stdout.write(json.dumps(message) + "\\n")
        sys.stdout.flush()

runtime._CrashBudget.conn = Pipe()
runtime._CrashBudget.crash_after = 3
runtime._install_crash_hook()
http = urllib3.PoolManager(retries=False)
base = sys.argv[1]
http.request("POST", base + "/", body=b"Action=Publish&PhoneNumber=%2B447700900001&Message=hello")
http.request("POST", base + "/ledger", body=b'{"TransactItems": []}')
http.request("POST", base + "/ledger", body=b'{"TransactItems": []}')
print("not reached")
"""


class _Aws(BaseHTTPRequestHandler):
    """SNS accepts the publish; every later request (the ledger's record of it) is throttled."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200 if self.path == "/" else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_a_crash_after_the_record_of_a_publish_failed_notes_the_publish_as_unrecorded():
    # Given an invocation whose publish SNS accepted and whose ledger records were refused, then crashed
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Aws)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = subprocess.run(
            [sys.executable, "-c", CRASHING_WORKER, f"http://127.0.0.1:{server.server_port}"],
            env={"PYTHONPATH": str(INFRA), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
    # Then the runtime's last word names the refused record, and the publish no successful request followed
    assert run.returncode == 137 and "not reached" not in run.stdout, run.stderr
    note = json.loads(run.stdout.strip().splitlines()[-1])
    assert note["crashing_after"]["url"].endswith("/ledger")
    assert "Action=Publish" in note["unrecorded_publish"]["body"]
