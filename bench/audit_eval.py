"""How well the audit finds planted label errors, and what it finds in our own corpus.

    .venv/bin/python -m bench.audit_eval [--seeds 3] [--corpus-seeds 1] [--folds 5] [--top 25] [--skip-corpus]

For each data set (the labeled lawcrime sample from ../shared, with texts from lawcrime_dev.jsonl,
and labels/corpus.csv) and seed: copy the labels, flip or drop one label on 10% of the rows
(training.audit.plant.plant_errors, seeded), run the audit (k-fold out-of-fold scores, confident
learning), rank rows by their first label finding, and score the top k rows (k = number planted)
against the planted rows: precision@k and recall@k (equal when k = planted), plus precision of
all the rows the confident joint flags. Then it audits labels/corpus.csv as it is and prints the
top findings (row, kind, label, score, given labels, model scores, excerpt of our own text) to read.
No text from ../shared is printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from bench.gold_sets import SHARED, lawcrime_articles
from training.audit import audit_rows, read_rows
from training.audit.plant import plant_errors
from training.config import REPO_ROOT, Settings
from training.data import Dataset, compose
from training.taxonomy import label_ids

LABEL_KINDS = ("missing_label", "extra_label")


def ranked_rows(result) -> list[int]:
    """Row numbers in order of their most suspicious label finding."""
    seen: list[int] = []
    for f in result.findings:
        if f.kind in LABEL_KINDS and f.row not in seen:
            seen.append(f.row)
    return seen


def one_run(data: Dataset, labels: list[str], seed: int, folds: int) -> dict:
    corrupted, chosen = plant_errors(data.labels, labels, 0.1, seed)
    planted = {i + 1 for i in chosen}
    copy = Dataset(data.texts, corrupted, data.ids)
    started = time.perf_counter()
    result = audit_rows(copy, labels=labels, folds=folds)
    seconds = time.perf_counter() - started
    rows = ranked_rows(result)
    k = len(planted)
    hits = len(set(rows[:k]) & planted)
    return {"seed": seed, "rows": len(data), "planted": k, "flagged": len(rows), "hits_at_k": hits,
            "precision_at_k": round(hits / k, 3), "recall_at_k": round(hits / k, 3),
            "precision_flagged": round(len(set(rows) & planted) / len(rows), 3) if rows else None,
            "recall_flagged": round(len(set(rows) & planted) / k, 3), "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="planting seeds on the lawcrime sample")
    parser.add_argument("--corpus-seeds", type=int, default=1, help="planting seeds on labels/corpus.csv")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--top", type=int, default=25, help="corpus findings to print")
    parser.add_argument("--skip-corpus", action="store_true")
    args = parser.parse_args()
    labels = label_ids(Settings().taxonomy_path)
    sets = []
    if (SHARED / "data" / "lawcrime_dev_labels.jsonl").is_file():
        items = lawcrime_articles()
        sets.append(("lawcrime", Dataset([compose(i["title"], i["text"]) for i in items], [set(i["labels"]) for i in items],
                                         [str(i["id"]) for i in items]), args.seeds))
    else:
        print(f"{SHARED} not found: lawcrime skipped", file=sys.stderr)
    corpus, _, _ = read_rows(REPO_ROOT / "labels" / "corpus.csv")
    if not args.skip_corpus:
        sets.append(("corpus", corpus, args.corpus_seeds))
    for name, data, seeds in sets:
        runs = [one_run(data, labels, seed, args.folds) for seed in range(seeds)]
        for run in runs:
            print(json.dumps({"set": name, **run}))
        print(f"{name}: precision@k median {statistics.median(r['precision_at_k'] for r in runs):.3f} "
              f"(min {min(r['precision_at_k'] for r in runs):.3f}) over {len(runs)} seed(s), k = {runs[0]['planted']}, "
              f"{args.folds}-fold", flush=True)
    if args.skip_corpus:
        return
    data, rows, _ = read_rows(REPO_ROOT / "labels" / "corpus.csv")
    result = audit_rows(data, rows, labels=labels, folds=args.folds)
    print(f"labels/corpus.csv as it is: {len(result.findings)} finding(s): {result.summary['by_kind']}")
    ids = dict(zip(rows, data.ids))
    for f in result.findings[: args.top]:
        scores = " ".join(f"{k}={v:.2f}" for k, v in sorted(f.scores.items(), key=lambda kv: -kv[1])[:2])
        print(f"row {f.row} id={ids[f.row]}\t{f.kind}\t{f.label or '-'}\t{f.score:.3f}\t{'|'.join(f.given) or '(none)'}\t{scores}\t{f.text[:60]}")


if __name__ == "__main__":
    main()
