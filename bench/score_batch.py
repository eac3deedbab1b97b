"""Score a fresh labelled batch ONCE with triage as it is now, and log the figures before anyone looks at it.

    python bench/score_batch.py /work/triage-batches/w1-b1.jsonl [more batches ...]
    python bench/score_batch.py --report          # rewrite bench/triage_batches.md from the log

A batch is scored once: its figures (per batch, by language) are appended to ``bench/triage_batches.json``
with the date and the system commit, and the script refuses to score a batch whose name is already there.
Only after that may the batch's errors be read, the system tuned on it, and the batch merged into the
training data (``tests/data/batches/``). The Markdown table ``bench/triage_batches.md`` is generated from the
JSON log: pooled figures are summed from the counts, never averaged from ratios.

Figures: complaint/noise accuracy (all tweets), district and category accuracy (true complaints), P1 recall
(true P1s) and P1 precision counting every tweet called P1 (noise called P1 included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "infra")]

LOG = ROOT / "bench" / "triage_batches.json"
REPORT = ROOT / "bench" / "triage_batches.md"
PREDICTIONS = ROOT / "bench" / "batch_predictions"
COUNTS = ("n", "complaint_ok", "complaints", "district_ok", "category_ok", "p1", "p1_tp", "called_p1")


def read_batch(path: Path) -> list[dict]:
    """The batch's records; a batch still being written (not 100 parsable lines) is refused."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    if len(records) < 100 and not path.name.startswith("heldout"):
        raise SystemExit(f"{path.name}: {len(records)} lines, a batch has 100: still being written?")
    return records


def tally(records: list[dict], results: list[dict]) -> dict[str, dict[str, int]]:
    """Counts per language (and "all") from labels and triage results (``Triage.as_dict()``)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for record, got in zip(records, results, strict=True):
        label = record["label"]
        for key in ("all", label.get("language") or "?"):
            c = counts[key]
            c["n"] += 1
            c["complaint_ok"] += got["is_complaint"] == label["is_complaint"]
            c["called_p1"] += got["priority"] == "P1"
            if label["is_complaint"]:
                c["complaints"] += 1
                c["district_ok"] += got["district_code"] == label["district_code"]
                c["category_ok"] += got["category"] == label["category"]
                if label["priority"] == "P1":
                    c["p1"] += 1
                    c["p1_tp"] += got["priority"] == "P1"
    return dict(counts)


def figures(c: dict[str, int]) -> dict[str, float | int | None]:
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    return {
        "n": c["n"],
        "complaint_noise": ratio(c["complaint_ok"], c["n"]),
        "district": ratio(c["district_ok"], c["complaints"]),
        "category": ratio(c["category_ok"], c["complaints"]),
        "p1_recall": ratio(c["p1_tp"], c["p1"]),
        "p1_precision": ratio(c["p1_tp"], c["called_p1"]),
        "p1": c["p1"],
        "called_p1": c["called_p1"],
    }


def system_commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "functions", "infra/data"], cwd=ROOT, capture_output=True, text=True
    )
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def load_log() -> list[dict]:
    return json.loads(LOG.read_text(encoding="utf-8")) if LOG.exists() else []


def score(paths: list[Path], note: str) -> None:
    from seva.triage import classify

    log = load_log()
    done = {entry["batch"] for entry in log}
    commit = system_commit()
    for path in paths:
        name = path.name.removesuffix(".jsonl")
        if name in done:
            print(f"{name}: already scored once ({commit}): not scored again")
            continue
        records = read_batch(path)
        results = [classify(r["tweet"], r.get("author"), r.get("place")).as_dict() for r in records]
        counts = tally(records, results)
        entry = {
            "batch": name,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "commit": commit,
            "note": note,
            "counts": counts,
        }
        log.append(entry)
        LOG.write_text(json.dumps(log, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        PREDICTIONS.mkdir(exist_ok=True)
        with open(PREDICTIONS / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for record, got in zip(records, results, strict=True):
                kept = {k: got.get(k) for k in ("is_complaint", "district_code", "category", "priority", "confidence")}
                kept |= {k: got.get(k) for k in ("needs_review", "review_reason") if k in got}
                fh.write(json.dumps({"id": record["tweet"]["id"], "label": record["label"], "got": kept}) + "\n")
        print(name, json.dumps(figures(counts["all"])))
    write_report(log)


def _row(title: str, c: dict[str, int], extra: str = "") -> str:
    f = figures(c)

    def show(v: float | int | None) -> str:
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    cells = [title, extra, *(show(f[k]) for k in ("complaint_noise", "district", "category", "p1_recall"))]
    cells.append(f"{show(f['p1_precision'])} ({c['p1_tp']}/{c['called_p1']})")
    cells.append(str(c["n"]))
    return "| " + " | ".join(cells) + " |"


def _add(into: dict[str, dict[str, int]], counts: dict[str, dict[str, int]]) -> None:
    for key, c in counts.items():
        total = into.setdefault(key, dict.fromkeys(COUNTS, 0))
        for k in COUNTS:
            total[k] += c[k]


# Pooled sections of the report: a held-out set, the batches of one round of work, by their names
GROUPS = (
    ("heldout2-", "held-out set 2 (300 tweets, scored once on the final system)"),
    ("heldout-", "held-out set 1 (scored once on `48e0ef2`, the then final system; in the training data since)"),
    ("w7-", "w7–w8 (800 tweets, scored once on the handed-over system `f90c0e0` before tuning)"),
    ("w8-", "w7–w8 (800 tweets, scored once on the handed-over system `f90c0e0` before tuning)"),
)


def group_of(batch: str) -> str:
    return next((title for prefix, title in GROUPS if batch.startswith(prefix)), "training batches w1–w5")


def latest_held_out(log: list[dict]) -> str | None:
    """The name prefix of the newest held-out set in the log ("heldout2-"), or None."""
    sets = {entry["batch"].rsplit("-", 1)[0] for entry in log if entry["batch"].startswith("heldout")}
    return max(sets) + "-" if sets else None


def write_report(log: list[dict]) -> None:
    header = (
        "| batch | date, system commit | complaint/noise | district | category | P1 recall | P1 precision | n |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    lines = [
        "# Fresh batches, each scored ONCE before anyone looked at it",
        "",
        "Generated by `bench/score_batch.py` from `bench/triage_batches.json` (do not edit by hand). Each batch was",
        "scored with triage as it was at the commit shown, *before* its errors were read or it joined the training",
        "data. P1 precision counts every tweet called P1, noise included. Pooled rows are summed from counts.",
        "",
        "## Per batch",
        "",
        header,
    ]
    pooled: dict[str, dict[str, dict[str, int]]] = {}  # group -> language -> counts
    for entry in log:
        lines.append(_row(entry["batch"], entry["counts"]["all"], f"{entry['date']} `{entry['commit']}`"))
        _add(pooled.setdefault(group_of(entry["batch"]), {}), entry["counts"])
    for group, by_language in pooled.items():
        lines += ["", f"## Pooled: {group}, by language", "", header]
        lines.append(_row("**all**", by_language["all"]))
        for language in sorted(k for k in by_language if k != "all"):
            lines.append(_row(language, by_language[language]))
    lines += reliability(log)
    notes = [e for e in log if e.get("note")]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {e['batch']}: {e['note']}" for e in notes]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def reliability(log: list[dict]) -> list[str]:
    """Is ``confidence`` a probability? Per bin of confidence, how often the complaint/noise and P1/not decision
    was right, and how many went to review — on the newest held-out set (scored once on the final system)."""
    rows: list[tuple[float, bool, bool]] = []
    held_out = latest_held_out(log)
    for entry in log:
        path = PREDICTIONS / f"{entry['batch']}.jsonl"
        if held_out is None or not entry["batch"].startswith(held_out) or not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            got, label = item["got"], item["label"]
            if got.get("confidence") is None:
                continue
            right = got["is_complaint"] == label["is_complaint"] and (got["priority"] == "P1") == (
                label["priority"] == "P1"
            )
            rows.append((float(got["confidence"]), right, bool(got.get("needs_review"))))
    if not rows:
        return []
    lines = [
        "",
        f"## Calibration on the held-out batches ({held_out}*)",
        "",
        "How often the complaint/noise and P1/not-P1 decision was right, by the confidence triage gave it.",
        "",
        "| confidence | n | mean confidence | share right | sent to review |",
        "| --- | --- | --- | --- | --- |",
    ]
    edges = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01]
    for low, high in pairwise(edges):
        inside = [r for r in rows if low <= r[0] < high]
        if inside:
            mean = sum(c for c, _, _ in inside) / len(inside)
            share = sum(r for _, r, _ in inside) / len(inside)
            review = sum(v for _, _, v in inside)
            lines.append(f"| [{low:.2f}, {min(high, 1.0):.2f}) | {len(inside)} | {mean:.3f} | {share:.3f} | {review} |")
    wrong = [r for r in rows if not r[1]]
    lines.append("")
    lines.append(
        f"Sent to review: {sum(r[2] for r in rows)} of {len(rows)} tweets; of the {len(wrong)} wrong decisions, "
        f"{sum(r[2] for r in wrong)} were among them."
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("batches", nargs="*", type=Path)
    parser.add_argument("--note", default="", help="what the system was when it scored these batches")
    parser.add_argument("--report", action="store_true", help="only rewrite the Markdown report")
    args = parser.parse_args()
    if args.report:
        write_report(load_log())
    else:
        score(args.batches, args.note)


if __name__ == "__main__":
    main()
