"""One clear line and a documented exit code for every CLI mistake: never a traceback.

Exit codes (``seva --help`` and the README list them):
  0   OK
  1   the command ran but what it checked fell short (``seva demo``: something lost, late or doubled;
      ``officers remove``: no such officer)
  2   a bad option or value: usage, a bad phone number, --speed 0, a missing setting (argparse's own code too)
  3   bad input: a file missing, unreadable or malformed, or invalid lines/rows in it (each named)
  4   AWS said no or could not be reached: a wrong table, topic or region, no credentials, access denied
  70  an internal error (a bug): one line; SEVA_DEBUG=1 shows the traceback
  130 interrupted (Ctrl-C)
  141 the output was closed early (``seva classify < f | head -1``)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import Any, NoReturn

from seva.officers import mask_phones


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    BAD_INPUT = 3
    AWS = 4
    INTERNAL = 70
    INTERRUPTED = 130
    OUTPUT_CLOSED = 141


EXIT_CODES_HELP = """exit codes:
  0    OK
  1    ran, but what it checked fell short (demo: lost/doubled/unanswered; officers remove: no such officer)
  2    bad option or value (usage, a bad phone number, --speed 0, a missing setting)
  3    bad input: a file missing, unreadable or malformed, or invalid lines/rows in it (each named on stderr)
  4    AWS said no or could not be reached (wrong table, topic or region, no credentials, access denied)
  70   internal error (a bug; SEVA_DEBUG=1 shows the traceback)
  130  interrupted;  141  output closed early (e.g. | head -1)"""


class CliError(Exception):
    """A mistake the user can fix: printed as one line (phone numbers masked), exit with ``code``."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE):
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (exit 2) instead of a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def aws_error(exc: BaseException, what: str) -> CliError:
    """A botocore error as one line: what failed, and what to check."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        InvalidRegionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", "")).rstrip(".")
        if code in ("ResourceNotFoundException", "NotFound", "NotFoundException"):
            return CliError(f"{what} not found ({message}): check the name and the region", ExitCode.AWS)
        if code in ("AccessDeniedException", "AccessDenied", "AuthorizationError", "UnrecognizedClientException"):
            return CliError(f"{what}: access denied ({code}): check the credentials and their policy", ExitCode.AWS)
        return CliError(f"{what}: AWS {code}: {message}", ExitCode.AWS)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return CliError(
            f"{what}: no AWS credentials (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and its secret)", ExitCode.AWS
        )
    if isinstance(exc, NoRegionError):
        return CliError(f"{what}: no AWS region (set AWS_REGION or --region)", ExitCode.AWS)
    if isinstance(exc, InvalidRegionError):
        return CliError(f"{what}: {exc} (set AWS_REGION or --region to a region such as ap-south-1)", ExitCode.AWS)
    if isinstance(exc, EndpointConnectionError):
        return CliError(f"{what}: cannot reach AWS ({exc}): check the region and the network", ExitCode.AWS)
    return CliError(f"{what}: {type(exc).__name__}: {exc}", ExitCode.AWS)


def _is_aws_error(exc: BaseException) -> bool:
    if "botocore" not in sys.modules:
        return False
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, BotoCoreError | ClientError)


def _close_stdout() -> None:
    """The reader went away: nothing more can be written, and Python must not complain when it flushes at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def say_error(prog: str, message: str) -> None:
    print(f"{prog}: {mask_phones(message)}", file=sys.stderr, flush=True)


def run(prog: str, func: Callable[[Any], int], args: Any) -> int:
    """Run a command; every failure becomes one line on stderr and its exit code."""
    try:
        status = int(func(args))
        sys.stdout.flush()
        return status
    except CliError as exc:
        say_error(prog, str(exc))
        return int(exc.code)
    except KeyboardInterrupt:
        say_error(prog, "interrupted")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        _close_stdout()
        return int(ExitCode.OUTPUT_CLOSED)
    except Exception as exc:
        if _is_aws_error(exc):
            error = aws_error(exc, "AWS")
            say_error(prog, str(error))
            return int(error.code)
        if os.environ.get("SEVA_DEBUG"):
            raise
        say_error(prog, f"internal error: {type(exc).__name__}: {exc} (SEVA_DEBUG=1 shows the traceback)")
        return int(ExitCode.INTERNAL)
