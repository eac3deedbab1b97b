"""A Lambda-like runtime: one worker process per function, as a warm container.

The worker runs the real handler from its CodeUri with the function's environment. Crash injection lives
here, in the runtime (never in handler code): an invocation marked to crash is killed right after its k-th
outbound HTTP request completes — the request's side effect happened, its response is lost — which is the
hardest case for idempotency.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import Any

CRASH_EXIT = 137


@dataclass
class _Context:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


class _CrashBudget:
    crash_after: int | None = None
    hang_after: int | None = None
    requests: int = 0
    conn: Any = None
    # An SNS publish no successful request has followed yet: a crash now is still in the window between SNS
    # accepting it and the ledger recording it, even when the last request was a recording that failed
    unrecorded_publish: dict[str, Any] | None = None


def _request_note(method: str, url: str, body: Any) -> dict[str, Any]:
    """What the last request was (for the demo's ground truth: a send right before a crash)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    # Whole (an SNS message is at most 256 KB): a Hindi email, percent-encoded, is well over 4,000 characters,
    # and a cut body no longer matches the message SNS accepted (its double was then counted as unexplained)
    return {"method": method, "url": url, "body": text[:300_000]}


def _install_crash_hook() -> None:
    import urllib3.connectionpool as pool

    original = pool.HTTPConnectionPool.urlopen

    def urlopen(self, method, url, body=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = original(self, method, url, body, *args, **kwargs)
        _CrashBudget.requests += 1
        if 200 <= response.status < 300:
            publish = b"Action=Publish" in (body if isinstance(body, bytes) else str(body or "").encode())
            _CrashBudget.unrecorded_publish = _request_note(method, url, body) if publish else None
        if _CrashBudget.crash_after is not None and _CrashBudget.requests >= _CrashBudget.crash_after:
            # The request's side effect happened; its response dies with the process
            note = {"crashing_after": _request_note(method, url, body)}
            if _CrashBudget.unrecorded_publish is not None:
                note["unrecorded_publish"] = _CrashBudget.unrecorded_publish
            _CrashBudget.conn.send(note)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(CRASH_EXIT)
        if _CrashBudget.hang_after is not None and _CrashBudget.requests >= _CrashBudget.hang_after:
            # A timeout in the middle of a batch: the runtime kills the invocation at its deadline
            _CrashBudget.conn.send(
                {"hanging": _request_note(method, url, body), "unrecorded_publish": _CrashBudget.unrecorded_publish}
            )
            sys.stdout.flush()
            while True:
                time.sleep(3600)
        return response

    pool.HTTPConnectionPool.urlopen = urlopen  # type: ignore[method-assign]


def worker_main(conn, spec: dict[str, Any], log_path: str) -> None:  # type: ignore[no-untyped-def]
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ") if k in os.environ}
    os.environ.clear()
    os.environ.update(keep)
    os.environ.update(spec["env"])
    sys.path.insert(0, spec["code_uri"])
    _CrashBudget.conn = conn
    _install_crash_hook()
    started = time.perf_counter()
    try:
        module_name, attr = spec["handler"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # Runtime.ImportModuleError
        conn.send({"ready": False, "errorType": type(exc).__name__, "errorMessage": str(exc)})
        return
    conn.send({"ready": True, "init_s": time.perf_counter() - started})
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        _CrashBudget.requests, _CrashBudget.unrecorded_publish = 0, None
        _CrashBudget.crash_after = message.get("crash_after")
        _CrashBudget.hang_after = message.get("hang_after")
        context = _Context(
            function_name=spec["name"],
            memory_limit_in_mb=spec["memory_mb"],
            invoked_function_arn=spec["arn"],
            aws_request_id=message.get("request_id") or str(uuid.uuid4()),
            deadline=time.time() + spec["timeout_s"],
        )
        t0 = time.perf_counter()
        profile_dir = os.environ.get("SEVA_PROFILE_DIR")  # the local cloud's own tooling: where time goes
        profiler = None
        if profile_dir:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        try:
            result = handler(message["event"], context)
            conn.send({"ok": True, "result": result, "duration_s": time.perf_counter() - t0})
        except Exception as exc:
            traceback.print_exc()
            conn.send(
                {
                    "ok": False,
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc)[:2000],
                    "duration_s": time.perf_counter() - t0,
                }
            )
        finally:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(f"{profile_dir}/{spec['name']}-{context.aws_request_id}.prof")
            sys.stdout.flush()
