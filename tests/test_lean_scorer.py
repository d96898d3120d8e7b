"""The numpy-only scorer against the scikit-learn Pipeline it was exported from, and a serving path without scikit-learn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from training import pipeline as model_pipeline
from training.config import REPO_ROOT, Settings
from training.data import read_csv, read_jsonl
from training.model.export import scorer_from_pipeline
from training.normalize import is_cjk
from training.tagger import Tagger
from training.taxonomy import label_ids

from conftest import SHARED


@pytest.fixture(scope="module")
def corpus_pipeline():
    """A Pipeline fitted on our corpus (threshold CV cut to 2 folds: the scores, not the thresholds, are under test)."""
    labels = label_ids(Settings().taxonomy_path)
    dataset = read_csv(REPO_ROOT / "labels" / "corpus.csv", labels)
    pipe, _ = model_pipeline.fit(dataset, labels, {"cv": 2})
    return pipe, dataset.texts


def _gold_texts(tmp_path_factory) -> list[str]:
    if not (SHARED / "seeds" / "gold.jsonl").exists() or not (SHARED / "data").is_dir():
        return []
    from bench.gold_sets import write_gold_sets

    texts = []
    for path in write_gold_sets(tmp_path_factory.mktemp("gold")).values():
        texts += read_jsonl(path, label_ids(Settings().taxonomy_path)).texts
    return texts


def _reference(pipe, texts: list[str], explain: int, keywords: int) -> list[dict]:
    """Labels, scores and key terms computed on the scikit-learn objects (the pre-format-2 Tagger's code)."""
    steps = pipe.named_steps
    X = steps["features"].transform(steps["normalize"].transform(texts))
    proba = steps["classify"].predict_proba(X)
    names = steps["features"].get_feature_names_out()
    labels = [str(x) for x in steps["classify"].classes_]
    out = []
    for i in range(len(texts)):
        row = X[i].tocsr()
        chosen = [labels[k] for k in np.argsort(-proba[i]) if proba[i][k] >= steps["classify"].thresholds_[k]]
        scored = []
        for j, value in zip(row.indices, row.data):
            kind, _, term = str(names[j]).partition("__")
            if kind == "words" and " " not in term and len(term) >= 2 and any(map(is_cjk, term)):
                scored.append((value, term))
        scored.sort(reverse=True)
        out.append({"labels": chosen, "proba": proba[i],
                    "keywords": [{"term": t, "weight": round(float(v), 4)} for v, t in scored[:keywords]]})
    return out


def test_lean_scores_equal_the_pipeline_on_the_whole_corpus_and_the_gold_texts(corpus_pipeline, tmp_path_factory):
    pipe, corpus = corpus_pipeline
    scorer = scorer_from_pipeline(pipe)
    gold = _gold_texts(tmp_path_factory)
    for texts in (corpus, gold):
        if not texts:
            continue
        steps = pipe.named_steps
        X = steps["features"].transform(steps["normalize"].transform(texts))
        lean = scorer.features(texts)
        assert np.array_equal(X.indptr, lean.indptr) and np.array_equal(X.indices, lean.indices)
        assert np.abs(X.data - lean.data).max() <= 1e-12
        difference = np.abs(pipe.predict_proba(texts) - scorer.predict_proba(texts)).max()
        assert difference <= 1e-9, difference
    if not gold:
        pytest.skip(f"{SHARED} (third-party gold data) is absent: compared on labels/corpus.csv only")


def test_labels_evidence_and_keywords_equal_the_pipeline(corpus_pipeline, tmp_path_factory):
    pipe, corpus = corpus_pipeline
    tagger = Tagger(pipe, {"version": "candidate"})
    texts = corpus + _gold_texts(tmp_path_factory)
    for start in range(0, len(texts), 200):
        batch = texts[start:start + 200]
        expected = _reference(pipe, batch, explain=8, keywords=10)
        for result, ref in zip(tagger.classify(batch, explain=8, keywords=10), expected):
            assert result.labels == ref["labels"]
            # Evidence is attributed to word spans now: tests/test_evidence.py checks it.
            assert set(result.explain or {}) == set(result.labels)
            assert result.keywords == ref["keywords"]
            assert result.scores == {label: round(float(p), 4) for label, p in zip(tagger.labels, ref["proba"])}


HEAVY = ("sklearn", "scipy", "joblib")
SHOW_HEAVY = f"import sys; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"


def _run(code: str, tmp_path: Path, models_dir: Path) -> list[str]:
    env = {**os.environ, "TAGGER_MODELS_DIR": str(models_dir), "TAGGER_DATA_DIR": str(tmp_path / "var")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_service_loads_and_classifies_without_scikit_learn_or_scipy(tmp_path):
    code = (
        "import json\n"
        "from service import create_app\n"
        "client = create_app({'TESTING': True}).test_client()\n"
        "r = client.post('/classify', json={'text': '县人民检察院依法批准逮捕诈骗嫌疑人', 'explain': True, 'keywords': 3})\n"
        "assert r.status_code == 200 and r.get_json()['labels'], r.get_json()\n"
        "assert client.get('/readyz').status_code == 200\n"
        + SHOW_HEAVY
    )
    assert _run(code, tmp_path, REPO_ROOT / "models") == []


def test_the_classify_command_runs_without_scikit_learn_or_scipy(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("派出所民警连夜抓获盗窃电动车的嫌疑人。", encoding="utf-8")
    code = (
        "import json\n"
        "from training.cli import main\n"
        f"main(['classify', {str(article)!r}], standalone_mode=False)\n"
        + SHOW_HEAVY
    )
    assert _run(code, tmp_path, REPO_ROOT / "models") == []


PICKLE_OPCODES = [b"\x80\x02", b"\x80\x03", b"\x80\x04\x95", b"\x80\x05\x95"]
# What a joblib or pickle file starts with: a pickle protocol opcode, joblib's zlib/gzip/bz2/xz/lz4
# compressed streams, or joblib's old "ZF" header.
BINARY_HEADERS = (b"\x80", b"ZF", b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x04\x22\x4d\x18")


def test_models_dir_holds_no_pickle():
    import zipfile

    files = [p for p in (REPO_ROOT / "models").rglob("*") if p.is_file()]
    assert any(p.suffix == ".npz" for p in files), "models/ must hold the shipped default model"
    for path in files:
        content = path.read_bytes()
        assert not content.startswith(BINARY_HEADERS), f"{path} starts like a pickle or joblib file"
        if path.suffix == ".json":
            json.loads(content)
            assert not any(op in content for op in PICKLE_OPCODES), path
            continue
        assert path.suffix == ".npz", f"{path}: only .json and .npz files belong in models/"
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                assert member.endswith(".npy"), (path, member)
                with archive.open(member) as handle:  # the .npy header names the dtype; "O" would mean pickled objects
                    header = handle.read(256)
                    assert header.startswith(b"\x93NUMPY") and b"'descr': '|O'" not in header, (path, member)
        with np.load(path, allow_pickle=False) as npz:  # raises on any object (pickled) member
            assert all(npz[name].dtype.kind in "iuf" for name in npz.files)
