"""Score the active model and the keyword baseline on the real gold sets; record both in model.json.

    .venv/bin/python -m bench.record_gold

The gold sets come from ../shared (built into build/gold/, never committed). The keyword
baseline is fitted on the same corpus as the model (labels/corpus.csv).
"""

from __future__ import annotations

import sys

from training import artifacts
from training.baseline import KeywordCounter
from training.config import get_settings
from training.data import read_csv, read_jsonl
from training.evaluate import format_report, score
from training.pipeline import indicator
from training.tagger import Tagger

from .gold_sets import SHARED, write_gold_sets


def main() -> None:
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} not found (the gold data lives in ../shared beside the checkout)")
        return
    settings = get_settings()
    version = artifacts.active_version(settings.models_dir)
    pipe, meta = artifacts.load_model(settings.models_dir, version)
    tagger = Tagger(pipe, meta)
    labels = tagger.labels
    corpus = read_csv(settings.corpus_path, labels)
    baseline = KeywordCounter().fit(corpus.texts, indicator(corpus.labels, labels))
    gold_metrics, baseline_metrics = {}, {}
    for name, path in write_gold_sets().items():
        gold = read_jsonl(path, labels)
        ours = score(gold.labels, [set(r.labels) for r in tagger.classify(gold.texts)], labels, gold.optional)
        rows = baseline.predict(gold.texts)
        theirs = score(gold.labels, [{labels[k] for k in range(len(labels)) if row[k]} for row in rows], labels, gold.optional)
        gold_metrics[name], baseline_metrics[name] = ours, theirs
        print(format_report(ours, f"{name} · model {version}"))
        print(format_report(theirs, f"{name} · keyword-count baseline (min counts {baseline.min_counts_})"))
        print()
    metrics = {**meta.get("metrics", {}), "gold": gold_metrics, "keyword_baseline": baseline_metrics}
    artifacts.update_meta(settings.models_dir, version, metrics=metrics)
    print(f"recorded in {settings.models_dir / version / artifacts.META_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
