"""The `seva` command's mistakes: one clear line on stderr, a documented exit code, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sevalocal.cli import main as seva

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": f"{ROOT}/functions:{ROOT}/infra", "PATH": "/usr/bin:/bin"}
SOS = "@lucknowpolice bachao, firing in Hazratganj"


def one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_classify_names_each_bad_line_and_never_triages_a_line_without_a_tweet(tmp_path, capsys):
    # Given an SOS written as a bare tweet (no "tweet" object), a tweet without text, a good line and a list
    path = tmp_path / "in.jsonl"
    lines = [
        {"id": "1", "text": SOS},
        {"tweet": {"id": "2"}},
        {"tweet": {"id": "3", "text": SOS}},
        [1, 2],
        {"tweet": {"id": "5", "text": SOS}, "author": "someone"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    # When it is classified
    status = seva(["classify", str(path)])
    captured = capsys.readouterr()
    out = [json.loads(x) for x in captured.out.splitlines()]
    # Then each bad line is answered in place with its line number, never as a triage result (never "noise")
    assert [o.get("line") for o in out] == [1, 2, None, 4, 5]
    assert "no tweet object" in out[0]["error"] and "wrap it" in out[0]["error"]
    assert "tweet.text" in out[1]["error"] and "author must be an object" in out[4]["error"]
    assert out[2]["priority"] == "P1"
    # And stderr names the lines, the last line says how many, and the exit code is 3 (bad input)
    assert status == 3
    err = captured.err.strip().splitlines()
    assert err[0].startswith("seva classify: line 1: no tweet object") and "4 invalid line(s)" in err[-1]
    assert "Traceback" not in captured.err


def test_classify_of_a_missing_file_is_one_line_exit_3(tmp_path, capsys):
    assert seva(["classify", str(tmp_path / "nope.jsonl")]) == 3
    assert one_error(capsys) == f"seva classify: {tmp_path / 'nope.jsonl'}: no such file"


def test_classify_survives_a_closed_pipe(tmp_path):
    # Given many tweets, and a reader that takes the first result only (`seva classify < f | head -1`)
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"tweet": {"id": str(i), "text": SOS}}) + "\n" for i in range(20000)))
    with path.open("rb") as stdin:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sevalocal.cli", "classify"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=ENV,
        )
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        status = proc.wait(timeout=120)
    # Then the first result came, and the command ended quietly with 141 (no traceback, no "Exception ignored")
    assert json.loads(first)["id"] == "0"
    assert err == "" and status == 141


def test_demo_rejects_speed_zero(capsys):
    assert seva(["demo", "--speed", "0"]) == 2
    assert "--speed must be a number above 0" in one_error(capsys)
    assert seva(["demo", "--speed", "nan"]) == 2
    assert "--speed" in one_error(capsys)


def test_demo_rejects_an_author_who_takes_a_registered_handles_id(tmp_path, capsys):
    from sevalocal.demo import REGISTRY, handle_user_ids, registered_handles

    # Given a scenario whose citizen has the X user id the demo gives @Uppolice
    uppolice = handle_user_ids(registered_handles(REGISTRY))["Uppolice"]
    line = {"at": 0, "tweet": {"id": "100", "text": SOS}, "author": {"id": uppolice, "username": "ram", "name": "R"}}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(line) + "\n")
    # When the demo is asked to run it, it refuses before starting anything: one line, exit 3
    assert seva(["demo", "--scenario", str(path), "--quiet"]) == 3
    error = one_error(capsys)
    assert f"author id {uppolice} (@ram) is the user id of the registered handle @uppolice" in error


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("{not json\n", ":1: not JSON"),
        ('{"at": 0, "tweet": {"id": "1", "text": "x"}}\n', ":1: 'author' is required"),
        (
            '{"at": -1, "tweet": {"id": "1", "text": "x"}, "author": {"id": "5", "username": "a", "name": "A"}}\n',
            ">= 0",
        ),
    ],
)
def test_demo_names_a_bad_scenario_file(tmp_path, capsys, content, expected):
    path = tmp_path / "s.jsonl"
    if content is not None:
        path.write_text(content)
    assert seva(["demo", "--scenario", str(path), "--quiet"]) == 3
    assert expected in one_error(capsys)


def test_usage_errors_are_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        seva(["demo", "--speed", "fast"])
    assert exit_.value.code == 2
    assert "invalid float value: 'fast'" in one_error(capsys)
    assert seva(["demo", "--faults", "1.5"]) == 2
    assert "--faults" in one_error(capsys)
