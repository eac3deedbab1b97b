"""Triage accuracy and speed.

    python bench/triage_bench.py [--labelled FILE] [--mumbai FILE] [--errors]

`tests/data/check_set_untuned.jsonl` is a small set that was evaluated once and never tuned on: use it
(with --labelled) for an honest figure, and do not tune the lexicon on it.

Prints: on our labelled UP set, district accuracy (unknown counts as a class), P1 recall/precision,
complaint-vs-noise accuracy and category accuracy (on complaints); on the real Mumbai Police tweets
(non-retweets) complaint-vs-noise precision/recall; and `seva classify` throughput on one core.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "infra")]

from seva.triage import classify  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "labelled_up_tweets.jsonl"
MUMBAI = ROOT.parent / "shared" / "data" / "external" / "mumbai_police_tweets.csv"


def evaluate(records: list[dict]) -> tuple[dict, list[str]]:
    n = len(records)
    district_ok = complaint_ok = category_ok = complaints = 0
    p1_tp = p1_fp = p1_fn = 0
    errors = []
    for r in records:
        got = classify(r["tweet"], r.get("author"), r.get("place"))
        label = r["label"]
        complaint_ok += got.is_complaint == label["is_complaint"]
        if label["is_complaint"]:
            complaints += 1
            district_ok += got.district_code == label["district_code"]
            category_ok += got.category == label["category"]
            if label["priority"] == "P1":
                p1_tp += got.priority == "P1"
                p1_fn += got.priority != "P1"
            elif got.priority == "P1":
                p1_fp += 1
        elif got.priority == "P1":
            p1_fp += 1
        wrong = []
        if got.is_complaint != label["is_complaint"]:
            wrong.append(f"complaint {got.is_complaint}")
        elif label["is_complaint"]:
            if got.district_code != label["district_code"]:
                wrong.append(f"district {got.district_code}≠{label['district_code']}")
            if got.category != label["category"]:
                wrong.append(f"category {got.category}≠{label['category']}")
            if (got.priority == "P1") != (label["priority"] == "P1"):
                wrong.append(f"priority {got.priority}≠{label['priority']}")
        if wrong:
            errors.append(f"{'; '.join(wrong):50} | {r['tweet']['text'][:90]}")
    figures = {
        "tweets": n,
        "complaint_vs_noise_accuracy": round(complaint_ok / n, 3),
        "district_accuracy": round(district_ok / max(1, complaints), 3),
        "category_accuracy": round(category_ok / max(1, complaints), 3),
        "p1_recall": round(p1_tp / max(1, p1_tp + p1_fn), 3),
        "p1_precision": round(p1_tp / max(1, p1_tp + p1_fp), 3),
    }
    return figures, errors


def repair(text: str) -> str:
    """The Mumbai CSV's text is UTF-8 decoded as Latin-1/CP1252, sometimes twice."""
    for _ in range(2):
        try:
            fixed = text.encode("cp1252", errors="strict").decode("utf-8", errors="strict")
        except (UnicodeEncodeError, UnicodeDecodeError):
            try:
                fixed = text.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                break
        if fixed == text:
            break
        text = fixed
    return text


def mumbai(path: Path) -> dict | None:
    if not path.exists():
        return None
    with open(path, encoding="utf-8", errors="replace") as fh:
        rows = list(csv.DictReader(fh))
    tp = fp = fn = tn = 0
    for row in rows:
        text = repair(row["tweet"])
        if text.startswith("RT @"):
            continue
        got = classify({"id": "0", "text": text}).is_complaint
        truth = row["complaint"].strip() == "1"
        tp += got and truth
        fp += got and not truth
        fn += truth and not got
        tn += not got and not truth
    return {
        "tweets": tp + fp + fn + tn,
        "complaints": tp + fn,
        "precision": round(tp / max(1, tp + fp), 3),
        "recall": round(tp / max(1, tp + fn), 3),
        "accuracy": round((tp + tn) / max(1, tp + fp + fn + tn), 3),
    }


def throughput(records: list[dict], seconds: float = 3.0) -> float:
    """`seva classify`'s own loop: JSON line in, classify, JSON line out."""
    from sevalocal.cli import classify_lines

    lines = [json.dumps({k: r[k] for k in ("tweet", "author") if k in r}, ensure_ascii=False) for r in records]
    sink = io.StringIO()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        count += classify_lines(lines, sink)
        sink.seek(0)
        sink.truncate()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    parser.add_argument("--mumbai", type=Path, default=MUMBAI)
    parser.add_argument("--errors", action="store_true", help="list misclassified tweets")
    args = parser.parse_args()
    records = [json.loads(line) for line in args.labelled.read_text(encoding="utf-8").splitlines() if line.strip()]
    figures, errors = evaluate(records)
    print("labelled UP set:", json.dumps(figures))
    labels = Counter(r["label"]["category"] for r in records if r["label"]["is_complaint"])
    print("  categories:", dict(labels.most_common()))
    if args.errors:
        print("\n".join(errors))
    result = mumbai(args.mumbai)
    print("mumbai police (non-retweets):", json.dumps(result) if result else "not available (../shared absent)")
    print(f"seva classify throughput: {throughput(records):,.0f} tweets/s on one core")


if __name__ == "__main__":
    main()
