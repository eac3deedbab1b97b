"""Train triage's learned model (``seva/data/triage_model.json``) from our labelled tweets. Dev-only: numpy and
scikit-learn are used here, never at inference.

    python infra/tools/train_triage_model.py              # train, calibrate, write the model
    python infra/tools/train_triage_model.py --check      # fail when the shipped model is not what the data trains
    python infra/tools/train_triage_model.py --evaluate   # leave-one-batch-out figures for every fresh batch

Data: ``tests/data/labelled_up_tweets.jsonl`` (our own, older set) and every fresh batch in
``tests/data/batches/`` (written by others, each scored once before it joined; see ``bench/score_batch.py``).
The current held-out set (``heldout2-*``) never comes here; the first one (``heldout-1..3``) was scored once on
the system it measured and has joined the training data since.

Two multinomial logistic regressions (L2) over the features of ``seva.triage.model.features``: *decision*
(noise / complaint / P1) on every tweet and *category* on complaints. Features seen in fewer than two tweets are
left out. The P1 thresholds and the confidence calibration come from out-of-fold predictions (grouped
k-fold: each fresh batch is a group, the older set is cut into five): the thresholds (categories of danger to
life, the others) are the pair with the best precision at a recall of at least 0.975 on the fresh batches (each
batch's own figures in ``--evaluate`` use thresholds chosen without it); the calibration is a Platt scaling of
the chosen decision's probability against whether the decision (as ``seva.triage.classifier.decide`` makes it)
was right.
Deterministic: the same data trains the same model. ``--check`` (run by the unit tests) retrains the weights and
compares them within rounding; the threshold and calibration are recomputed only when the data changed (their
cross-validation takes a minute): a model built from other data than the repository's fails the check.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "bench")]

import numpy as np  # noqa: E402
from scipy.sparse import csr_matrix, diags  # noqa: E402
from seva.triage.classifier import CATEGORIES, RuleReading, Triager, decide, rules_triager  # noqa: E402
from seva.triage.model import DECISIONS, TriageModel  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "labelled_up_tweets.jsonl"
BATCHES = ROOT / "tests" / "data" / "batches"
MODEL = ROOT / "infra" / "data" / "triage_model.json"
C_DECISION = 0.5  # inverse L2 strength (chosen by leave-one-batch-out figures)
C_CATEGORY = 1.0
MIN_COUNT = 2
HELD_OUT = "heldout2-"  # the final held-out set: scored once at the end, never trained on
# The older set was written by us alongside the rules (which are right on nearly all of it): it counts less than
# the fresh batches, most of all for the decision, where trusting the rules' verdict generalised worst.
OWN_WEIGHT_DECISION = 0.3
OWN_WEIGHT_CATEGORY = 0.5
# The decision head weighs words and these signals only: the rules' own verdicts (P1 words, "violence now", the
# rules' category) are right on the tweets they were tuned on and made out-of-fold P1 precision worse.
DECISION_SIGNALS = (
    "~len_",
    "~emoji_",
    "~link",
    "~question",
    "~retweet",
    "~shouted",
    "~child_age",
    "~adult_age",
    "~missing_child",
    "~set_past",
    "~set_earlier",
    "~set_habitual",
    "~set_p1_ongoing",
    "~set_noise",
    "~set_query",
    "~set_threat",
    "~set_p1_help",
    "~set_p1_urgency",
    "~set_unharmed",
    "~set_could_happen",
    "~set_captive",
    "~set_self_harm",
    "~set_handled",
    "~set_rescue_call",
    "~emoji_sos",
)
DIGITS = 4
# P1 recall the thresholds must keep out of fold: a margin over the goal (0.95) for tweets nobody here wrote
P1_RECALL_TARGET = 0.975


def load() -> list[tuple[str, dict]]:
    """(group, record) for every labelled tweet: a fresh batch is a group; the older set is cut into five."""
    rows = [line for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [(f"own-{i * 5 // len(rows)}", json.loads(line)) for i, line in enumerate(rows)]
    for path in sorted(BATCHES.glob("*.jsonl")):
        assert not path.name.startswith(HELD_OUT), "the held-out batches are never trained on"
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append((path.stem, json.loads(line)))
    return records


def fingerprint() -> str:
    digest = hashlib.sha256(LABELLED.read_bytes())
    for path in sorted(BATCHES.glob("*.jsonl")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def rules_only() -> Triager:
    return rules_triager()


def decision_label(label: dict) -> int:
    if not label["is_complaint"]:
        return 0
    return 2 if label["priority"] == "P1" else 1


class Featurised:
    def __init__(self, records: list[tuple[str, dict]], triager: Triager) -> None:
        self.groups = [g for g, _ in records]
        self.records = [r for _, r in records]
        read = [triager.read(r["tweet"]) for r in self.records]
        self.rules: list[RuleReading] = [rules for rules, _ in read]
        self.features: list[set[str]] = [found for _, found in read]
        self.decisions = np.array([decision_label(r["label"]) for r in self.records])
        self.categories = [r["label"]["category"] for r in self.records]
        own = np.array([g.startswith("own-") for g in self.groups])
        self.decision_weights = np.where(own, OWN_WEIGHT_DECISION, 1.0)
        self.category_weights = np.where(own, OWN_WEIGHT_CATEGORY, 1.0)


def fit(data: Featurised, rows: list[int]) -> dict:
    """Train both heads on these rows; the document ``TriageModel.from_document`` reads (without the threshold
    and calibration, which need out-of-fold predictions)."""
    counts: dict[str, int] = {}
    for i in rows:
        for f in data.features[i]:
            counts[f] = counts.get(f, 0) + 1
    vocabulary = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
    index = {f: i for i, f in enumerate(vocabulary)}
    matrix = _matrix([data.features[i] for i in rows], index)
    # the decision head does not see the rules' verdicts: their columns are empty, so their weights are zero
    hidden = [i for i, f in enumerate(vocabulary) if f[0] == "~" and not f.startswith(DECISION_SIGNALS)]
    mask = np.ones(len(vocabulary))
    mask[hidden] = 0.0
    decision = LogisticRegression(C=C_DECISION, max_iter=5000, tol=1e-6)
    decision.fit(
        matrix @ diags(mask), [DECISIONS[k] for k in data.decisions[rows]], sample_weight=data.decision_weights[rows]
    )
    complaints = [k for k, i in enumerate(rows) if data.decisions[i] > 0]
    category = LogisticRegression(C=C_CATEGORY, max_iter=5000, tol=1e-6)
    category.fit(
        matrix[complaints],
        [data.categories[rows[k]] for k in complaints],
        sample_weight=data.category_weights[[rows[k] for k in complaints]],
    )
    heads = {"decision": _head(decision, list(DECISIONS)), "category": _head(category, list(CATEGORIES))}
    return _pruned(vocabulary, heads)


def _matrix(found: list[set[str]], index: dict[str, int]) -> csr_matrix:
    rows, cols = [], []
    for r, features in enumerate(found):
        ids = sorted(index[f] for f in features if f in index)
        rows += [r] * len(ids)
        cols += ids
    return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(found), len(index)))


def _head(model: LogisticRegression, classes: list[str]) -> dict:
    known = [str(c) for c in model.classes_]
    coef = model.coef_ if len(known) > 2 else np.vstack([-model.coef_[0] / 2, model.coef_[0] / 2])
    bias = model.intercept_ if len(known) > 2 else np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
    weights, biases = [], []
    for name in classes:
        if name in known:
            k = known.index(name)
            weights.append(coef[k])
            biases.append(float(bias[k]))
        else:  # a class no training tweet has: never chosen
            weights.append(np.zeros(coef.shape[1]))
            biases.append(-30.0)
    return {"classes": classes, "weights": weights, "bias": [round(b, DIGITS) for b in biases]}


def _pruned(vocabulary: list[str], heads: dict) -> dict:
    """Drop features whose every weight rounds to zero; weights rounded (a smaller file, same decisions)."""
    stacked = np.vstack([w for head in heads.values() for w in head["weights"]])
    keep = np.flatnonzero(np.abs(stacked).max(axis=0) >= 0.5 * 10**-DIGITS)
    doc: dict = {"vocabulary": [vocabulary[i] for i in keep]}
    for name, head in heads.items():
        doc[name] = {
            "classes": head["classes"],
            "bias": head["bias"],
            "weights": [[round(float(x), DIGITS) for x in w[keep]] for w in head["weights"]],
        }
    return doc


def out_of_fold(data: Featurised) -> list[tuple[int, TriageModel]]:
    """For every group: a model trained without it (index of each row, the model that did not see it)."""
    assigned: list[tuple[int, TriageModel]] = []
    for group in sorted(set(data.groups)):
        train = [i for i, g in enumerate(data.groups) if g != group]
        doc = fit(data, train) | {"p1_thresholds": [0.5, 0.5], "calibration": [1.0, 0.0]}
        model = TriageModel.from_document(doc)
        assigned += [(i, model) for i, g in enumerate(data.groups) if g == group]
    return sorted(assigned, key=lambda pair: pair[0])


THRESHOLD_GRID = [(a / 100, b / 100) for a in range(10, 51) for b in range(a, 71, 5)]  # (P1 categories, others)


def p1_counts(data: Featurised, predictions: list, rows: list[int]) -> dict[tuple[float, float], np.ndarray]:
    """For every pair of thresholds: per row, (is a true P1, is called P1)."""
    truth = data.decisions[rows] == 2
    return {
        thresholds: np.array(
            [(t, decide(predictions[i], data.rules[i], thresholds).p1) for t, i in zip(truth, rows, strict=True)]
        )
        for thresholds in THRESHOLD_GRID
    }


def best_thresholds(outcomes: dict[tuple[float, float], np.ndarray], keep: np.ndarray) -> tuple[float, float]:
    """The thresholds with the best P1 precision among those with a recall of at least P1_RECALL_TARGET on the
    rows kept (none reaches it: the best recall)."""

    def key(thresholds: tuple[float, float]) -> tuple[bool, float, float]:
        truth, called = outcomes[thresholds][keep].T.astype(bool)
        tp = int((truth & called).sum())
        recall, precision = tp / max(1, int(truth.sum())), tp / max(1, int(called.sum()))
        reached = recall >= P1_RECALL_TARGET
        return reached, precision if reached else recall, recall

    return max(THRESHOLD_GRID, key=key)


def choose_thresholds(data: Featurised, predictions: list) -> tuple[float, float]:
    """The P1 thresholds (danger-to-life categories, others) chosen on the out-of-fold predictions of the fresh
    batches: precision as high as can be while recall stays at least P1_RECALL_TARGET."""
    fresh = [i for i, g in enumerate(data.groups) if not g.startswith("own-")]
    outcomes = p1_counts(data, predictions, fresh)
    return best_thresholds(outcomes, np.ones(len(fresh), dtype=bool))


def calibrate(data: Featurised, predictions: list, thresholds: tuple[float, float]) -> tuple[float, float]:
    """Platt scaling: right/wrong of each out-of-fold decision against the logit of its probability."""
    x, y = [], []
    for i, prediction in enumerate(predictions):
        got = decide(prediction, data.rules[i], thresholds)
        truth = data.decisions[i]
        right = (not got.is_complaint and truth == 0) or (got.is_complaint and truth > 0 and got.p1 == (truth == 2))
        p = min(max(got.probability, 1e-6), 1 - 1e-6)
        x.append(math.log(p / (1 - p)))
        y.append(int(right))
    platt = LogisticRegression(C=1e6, max_iter=1000)
    platt.fit(np.array(x).reshape(-1, 1), y, sample_weight=data.decision_weights)
    return round(float(platt.coef_[0][0]), DIGITS), round(float(platt.intercept_[0]), DIGITS)


def build(evaluate: bool = False, shipped: dict | None = None) -> dict:
    """The model document. With ``shipped`` (the check): the out-of-fold threshold and calibration are taken
    from it when it was built from the same data (the fingerprint says so); the weights are always retrained."""
    records = load()
    data = Featurised(records, rules_only())
    if shipped is not None and shipped.get("data") == fingerprint():
        thresholds, calibration = tuple(shipped["p1_thresholds"]), tuple(shipped["calibration"])
    else:
        folds = out_of_fold(data)
        predictions = [model.predict(data.features[i]) for i, model in folds]
        thresholds = choose_thresholds(data, predictions)
        calibration = calibrate(data, predictions, thresholds)
        if evaluate:
            report(data, folds, predictions, thresholds, calibration)
    doc = fit(data, list(range(len(data.records))))
    examples = {name: int((data.decisions == k).sum()) for k, name in enumerate(DECISIONS)}
    return {
        "note": "Built by infra/tools/train_triage_model.py; do not edit. Weights are per class over 'vocabulary'.",
        "data": fingerprint(),
        "examples": examples,
        "p1_thresholds": list(thresholds),
        "calibration": list(calibration),
        **doc,
    }


def report(
    data: Featurised, folds: list[tuple[int, TriageModel]], predictions: list, thresholds: tuple, calibration: tuple
) -> None:
    """Leave-one-batch-out: each fresh batch scored by the full triage with a model trained without it and P1
    thresholds chosen without it (on the other batches' out-of-fold predictions)."""
    from score_batch import figures, tally

    triager = rules_only()
    fresh = [i for i, g in enumerate(data.groups) if not g.startswith("own-")]
    outcomes = p1_counts(data, predictions, fresh)
    fresh_groups = np.array([data.groups[i] for i in fresh])
    chosen = {g: best_thresholds(outcomes, fresh_groups != g) for g in sorted(set(fresh_groups))}
    by_group: dict[str, tuple[list[dict], list[dict]]] = {}
    pooled_records, pooled_results = [], []
    reliability: list[tuple[float, bool]] = []
    for i, model in folds:
        group = data.groups[i]
        if group.startswith("own-"):
            continue
        tuned = replace(model, p1_thresholds=chosen[group], calibration=calibration)
        record = data.records[i]
        got = replace(triager, model=tuned).classify(record["tweet"], record.get("author"), record.get("place"))
        result = got.as_dict()
        by_group.setdefault(group, ([], []))[0].append(record)
        by_group[group][1].append(result)
        pooled_records.append(record)
        pooled_results.append(result)
        label = record["label"]
        right = got.is_complaint == label["is_complaint"] and (got.priority == "P1") == (label["priority"] == "P1")
        reliability.append((got.confidence, right))
    for group, (records, results) in sorted(by_group.items()):
        print(group, json.dumps(figures(tally(records, results)["all"])))
    counts = tally(pooled_records, pooled_results)
    for language in sorted(counts):
        print("pooled", language, json.dumps(figures(counts[language])))
    print(f"P1 thresholds {thresholds} (without each batch: {sorted(set(chosen.values()))}), calibration {calibration}")
    print("reliability (confidence bin: n, mean confidence, share right):")
    for low in (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        high = {0.0: 0.5, 0.5: 0.6, 0.6: 0.7, 0.7: 0.8, 0.8: 0.9, 0.9: 0.95, 0.95: 1.01}[low]
        inside = [(c, r) for c, r in reliability if low <= c < high]
        if inside:
            mean = sum(c for c, _ in inside) / len(inside)
            share = sum(r for _, r in inside) / len(inside)
            print(f"  [{low:.2f}, {min(high, 1):.2f}): {len(inside):4d}  {mean:.3f}  {share:.3f}")


def close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float | int):
        return abs(a - b) <= 2 * 10**-DIGITS + 1e-9
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    return a == b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped model instead of writing")
    parser.add_argument("--evaluate", action="store_true", help="print leave-one-batch-out figures")
    args = parser.parse_args()
    if args.check:
        shipped = json.loads(MODEL.read_text(encoding="utf-8")) if MODEL.exists() else {}
        same = close(build(shipped=shipped), shipped)
        print("triage model up to date" if same else f"{MODEL} is stale: run {Path(__file__).name}")
        return 0 if same else 1
    doc = build(evaluate=args.evaluate)
    MODEL.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {MODEL}: {len(doc['vocabulary'])} features from {sum(doc['examples'].values())} tweets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
