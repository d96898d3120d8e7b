"""The default model against the real gold sets in ../shared (skipped where they are absent)."""

from __future__ import annotations

import pytest

from training import artifacts
from training.config import REPO_ROOT
from training.data import read_jsonl
from training.evaluate import score
from training.tagger import Tagger

from conftest import shared_or_skip


@pytest.mark.parametrize("name,floor", [("seeds", 0.90), ("lawcrime", 0.75)])
def test_default_model_on_real_gold(name, floor, tmp_path):
    shared_or_skip("seeds", "gold.jsonl")
    shared_or_skip("data", "lawcrime_dev_labels.jsonl")
    from bench.gold_sets import write_gold_sets

    path = write_gold_sets(tmp_path)[name]
    models = REPO_ROOT / "models"
    pipe, meta = artifacts.load_model(models, artifacts.read_active(models)["active"])
    tagger = Tagger(pipe, meta)
    gold = read_jsonl(path, tagger.labels)
    report = score(gold.labels, [set(r.labels) for r in tagger.classify(gold.texts)], tagger.labels, gold.optional)
    # A regression guard at the level measured when the model shipped (see model.json).
    assert report["macro_f1"] >= floor, report
    assert report["macro_f1"] == pytest.approx(meta["metrics"]["gold"][name]["macro_f1"], abs=1e-4)
