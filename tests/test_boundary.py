"""The learned boundary model: verified on load, scored with numpy, explained, and better than the rules alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from training.cli import main
from training.pages.boundary import FEATURES, MODEL_DIR, BoundaryModelError, load
from training.pages.score import match_units
from training.pages.segment import segment
from training.pages.synth import generate
from training.pages.train_boundaries import decisions, fit, sample_weights

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_shipped_model_loads_and_matches_its_features():
    model = load(MODEL_DIR)
    assert model.names == FEATURES and len(model.roots) >= 10
    x = np.zeros(len(FEATURES))
    assert 0.0 < model.prob(x) < 1.0
    # explain() attributes the whole score: the contributions add up to the logit minus the trees' root values
    raw, contrib = model._contributions(x)
    roots = model.bias + model.rate * float(sum(model.value[r] for r in model.roots))
    assert abs(roots + sum(contrib) - raw) < 1e-9
    assert model.decide(x) == (model.prob(x), model.explain(x))  # one walk gives both


def test_exported_trees_score_exactly_like_scikit_learn():
    from sklearn.ensemble import GradientBoostingClassifier

    x, y, _ = decisions(list(generate(seed=6, count=40)))
    model = fit(x, y)
    clf = GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, subsample=0.8, random_state=0)
    clf.fit(x, y, sample_weight=sample_weights(y))
    assert np.allclose([model.prob(r) for r in x], clf.predict_proba(x)[:, 1], atol=1e-9)


def _rewrite_arrays(d: Path, change) -> None:
    """Alter the tree arrays and re-sign them, as an attacker who can write the directory would."""
    import hashlib

    from training.model.files import write_npz

    with np.load(d / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k].copy() for k in npz.files}
    change(arrays)
    write_npz(d / "arrays.npz", arrays)
    spec = json.loads((d / "model.json").read_text(encoding="utf-8"))
    spec["arrays_sha256"] = hashlib.sha256((d / "arrays.npz").read_bytes()).hexdigest()
    (d / "model.json").write_text(json.dumps(spec), encoding="utf-8")


def _loop(arrays):  # an inner node whose left child points back at the root: a walk that never ends
    inner = int(np.flatnonzero(arrays["feature"] >= 0)[1])
    arrays["left"][inner] = 0


def _outside(arrays):
    arrays["right"][int(np.flatnonzero(arrays["feature"] >= 0)[0])] = len(arrays["feature"]) + 5


def _feature(arrays):
    arrays["feature"][int(np.flatnonzero(arrays["feature"] >= 0)[0])] = len(FEATURES)


def _nan(arrays):
    arrays["value"][0] = np.nan


@pytest.mark.parametrize("damage", ["flip a byte", "other features", "no arrays", "not json",
                                    "a loop", "a child outside", "an unknown feature", "a NaN value"])
def test_a_damaged_model_is_refused_naming_the_fix(tmp_path, damage):
    d = tmp_path / "boundary"
    shutil.copytree(MODEL_DIR, d)
    resign = {"a loop": _loop, "a child outside": _outside, "an unknown feature": _feature, "a NaN value": _nan}
    if damage in resign:
        _rewrite_arrays(d, resign[damage])
    elif damage == "flip a byte":
        data = bytearray((d / "arrays.npz").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (d / "arrays.npz").write_bytes(bytes(data))
    elif damage == "other features":
        spec = json.loads((d / "model.json").read_text(encoding="utf-8"))
        spec["features"] = spec["features"][:-1]
        (d / "model.json").write_text(json.dumps(spec), encoding="utf-8")
    elif damage == "no arrays":
        (d / "arrays.npz").unlink()
    else:
        (d / "model.json").write_text("{", encoding="utf-8")
    with pytest.raises(BoundaryModelError, match="train_boundaries|malformed"):
        load(d)


def test_saved_model_round_trips_without_pickle(tmp_path):
    pages = list(generate(seed=5, count=30))
    x, y, _ = decisions(pages)
    model = fit(x, y)
    model.save(tmp_path / "m")
    again = load(tmp_path / "m")
    assert again.bias == model.bias and all(np.array_equal(a, b) for a, b in zip(again.arrays().values(), model.arrays().values()))
    assert [again.prob(r) for r in x] == [model.prob(r) for r in x]
    with np.load(tmp_path / "m" / "arrays.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype.kind in "fi" for k in npz.files)
    model.save(tmp_path / "m")  # replacing an existing model leaves one complete model behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def _matched(pages, model) -> int:
    found = 0
    for page in pages:
        arts = segment(page.text, model=model)
        found += sum(m.found for m in match_units(page.text, [u.chars for u in page.units], arts))
    return found


def test_the_model_matches_more_articles_than_the_rules_on_unseen_pages():
    pages = list(generate(seed=999, count=40))  # the shipped model was trained on seed 14
    assert _matched(pages, load(MODEL_DIR)) > _matched(pages, None)


def test_debug_says_why_each_article_starts():
    page = next(generate(seed=2, count=1, styles=["markdown"]))
    arts = segment(page.text)
    out = [a.to_dict(debug=True) for a in arts]
    assert all("start" in a["why"] for a in out)
    decided = [d for a in out for d in [a["why"]["start"], *a["why"]["sections"]] if d.get("model")]
    assert decided and all(0 <= d["p_new_article"] <= 1 and d["because"] for d in decided)
    assert "why" not in arts[0].to_dict()


def test_segment_debug_flag_on_the_api(client):
    page = next(generate(seed=2, count=1, styles=["markdown"])).text
    plain = client.post("/segment", json={"text": page}).get_json()["articles"]
    debug = client.post("/segment?debug=1", json={"text": page}).get_json()["articles"]
    assert plain and all("why" not in a for a in plain)
    assert [a["start"] for a in plain] == [a["start"] for a in debug]
    assert all(a["why"]["start"] for a in debug)
    assert client.post("/segment?debug=maybe", json={"text": page}).status_code == 400


def test_classify_split_debug_on_the_cli(runner, tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(next(generate(seed=2, count=1, styles=["markdown"])).text, encoding="utf-8")
    result = runner.invoke(main, ["classify", "--split", "--debug", str(path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert lines and all("why" in x and x["labels"] is not None for x in lines)
    result = runner.invoke(main, ["classify", "--debug", str(path)])
    assert result.exit_code != 0 and "--split" in result.output


def test_splitting_with_the_model_imports_no_scikit_learn(tmp_path):
    code = ("import json, sys\nfrom training.pages.segment import segment\n"
            "segment('## 标题一\\n\\n民警走进社区。\\n\\n## 标题二\\n\\n法院开庭审理。')\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_train_command_writes_a_model_that_loads(tmp_path):
    from training.pages.train_boundaries import main as train

    assert train(["--pages", "30", "--seed", "3", "--out", str(tmp_path / "b")]) == 0
    model = load(tmp_path / "b")
    assert model.info["pages"] == 30 and model.info["decisions"] > 0


def test_scores_count_matches_and_boundaries_on_a_known_split():
    from training.pages.segment import Article

    page = "甲甲甲甲乙乙乙乙丙丙"
    gold = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]

    def art(a, b):
        return Article(a, b, "", "", page[a:b], "article", [(a, b)])

    right = [art(0, 4), art(4, 8), art(8, 10)]
    assert [m.found for m in match_units(page, gold, right)] == [True, True, True]
    from training.pages.score import boundaries

    assert boundaries(page, gold, right) == (2, 2, 2)
    merged = [art(0, 8), art(8, 10)]  # two articles run together: one boundary missed, purity 0.5
    assert [m.found for m in match_units(page, gold, merged)] == [False, False, True]
    assert boundaries(page, gold, merged) == (1, 1, 2)


# --------------------------------------------------------------------------------------------
# Untrusted model files: every malformed or oversized one is a BoundaryModelError naming the
# file and the fix, never another exception, and never a model whose decisions are slow.


def _arrays() -> dict:
    with np.load(MODEL_DIR / "arrays.npz", allow_pickle=False) as npz:
        return {k: npz[k].copy() for k in npz.files}


def _npz(arrays: dict, compressed: bool = False) -> bytes:
    import io

    out = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(out, **arrays)
    return out.getvalue()


def _with(**changes) -> bytes:
    return _npz({**_arrays(), **changes})


def _chain(depth: int, roots: int = 1) -> bytes:
    """One tree that is a chain `depth` levels deep (inner node 2i: left 2i+2, right the leaf 2i+1)."""
    n = 2 * depth + 1
    feature, left, right = (np.full(n, -1, dtype=np.int64) for _ in range(3))
    inner = np.arange(0, 2 * depth, 2)
    feature[inner], left[inner], right[inner] = 0, inner + 2, inner + 1
    return _npz({"feature": feature, "left": left, "right": right, "cut": np.zeros(n), "value": np.zeros(n),
                 "roots": np.zeros(roots, dtype=np.int64)})


def _npy() -> bytes:
    import io

    out = io.BytesIO()
    np.save(out, np.arange(3))
    return out.getvalue()


def _bad_crc() -> bytes:
    data = bytearray(_npz(_arrays()))
    data[len(data) // 3] ^= 0xFF  # inside a member's data: the zip's CRC no longer matches
    return bytes(data)


# name -> (arrays.npz bytes, what the message says)
BAD_ARRAYS = {
    "a 0-d array": (lambda: _with(feature=np.array(3)), "not flat"),
    "a 2-D array": (lambda: _with(left=_arrays()["left"].reshape(1, -1)), "not flat"),
    "float node indexes": (lambda: _with(left=_arrays()["left"].astype(np.float64)), "not integers"),
    "bool features": (lambda: _with(feature=_arrays()["feature"] >= 0), "not integers"),
    "a negative root": (lambda: _with(roots=np.array([-1])), "outside the trees"),
    "a root past the end": (lambda: _with(roots=np.array([len(_arrays()["feature"])])), "outside the trees"),
    "no roots": (lambda: _with(roots=np.array([], dtype=np.int64)), "different lengths"),
    "string cuts": (lambda: _with(cut=np.array(["x"] * len(_arrays()["cut"]))), "not real numbers"),
    "complex values": (lambda: _with(value=_arrays()["value"].astype(complex)), "not real numbers"),
    "record values": (lambda: _with(value=np.zeros(len(_arrays()["value"]), dtype=[("a", "f8")])), "not real numbers"),
    "an infinite cut": (lambda: _with(cut=np.full(len(_arrays()["cut"]), np.inf)), "not finite"),
    "a million trees": (lambda: _with(roots=np.zeros(1_000_000, dtype=np.int64)), "trees"),
    "too many nodes": (lambda: _chain(40_000), "nodes"),
    "a tree 1,000 levels deep": (lambda: _chain(1_000), "deeper than"),
    "walks too long in all": (lambda: _chain(30, roots=1_000), "per decision"),
    "not a zip": (lambda: b"not an npz file" * 10, "arrays.npz"),
    "an .npy, not an .npz": (_npy, "arrays.npz"),
    "a bad CRC": (_bad_crc, "arrays.npz"),
    "truncated": (lambda: _npz(_arrays())[:-100], "arrays.npz"),
    "a zip bomb": (lambda: _npz({**_arrays(), "pad": np.zeros(20_000_000, dtype=np.uint8)}, compressed=True), "unpack"),
}


def _resign(d: Path, content: bytes) -> None:
    import hashlib

    (d / "arrays.npz").write_bytes(content)
    spec = json.loads((d / "model.json").read_text(encoding="utf-8"))
    spec["arrays_sha256"] = hashlib.sha256(content).hexdigest()
    (d / "model.json").write_text(json.dumps(spec), encoding="utf-8")


@pytest.mark.parametrize("damage", list(BAD_ARRAYS))
def test_malformed_or_oversized_arrays_are_refused_naming_file_and_fix(tmp_path, damage):
    make, says = BAD_ARRAYS[damage]
    d = tmp_path / "boundary"
    shutil.copytree(MODEL_DIR, d)
    _resign(d, make())  # re-signed: only the checks of the content itself can catch it
    with pytest.raises(BoundaryModelError) as info:
        load(d)
    message = str(info.value)
    assert str(d) in message and "python -m training.pages.train_boundaries" in message and says in message


@pytest.mark.parametrize("key, value", [("bias", 10**400), ("rate", "1e999"), ("threshold", [0.5]),
                                        ("features", None), ("features", 5), ("bias", None)],
                         ids=["bias 10**400", "rate 1e999", "threshold a list", "features null", "features 5", "bias null"])
def test_malformed_model_json_fields_are_refused(tmp_path, key, value):
    d = tmp_path / "boundary"
    shutil.copytree(MODEL_DIR, d)
    spec = json.loads((d / "model.json").read_text(encoding="utf-8"))
    spec[key] = value
    (d / "model.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(BoundaryModelError, match="train_boundaries") as info:
        load(d)
    assert str(d) in str(info.value)


@pytest.mark.parametrize("name, content", [("arrays.npz", b"\0" * (8 << 20 | 1)), ("model.json", b" " * (8 << 20 | 1)),
                                           ("model.json", b"[" * 100_000)],
                         ids=["arrays.npz over 8 MiB", "model.json over 8 MiB", "model.json nested 100,000 deep"])
def test_oversized_or_deeply_nested_files_are_refused(tmp_path, name, content):
    d = tmp_path / "boundary"
    shutil.copytree(MODEL_DIR, d)
    (d / name).write_bytes(content)
    with pytest.raises(BoundaryModelError, match="train_boundaries") as info:
        load(d)
    assert str(d) in str(info.value)


def test_the_bounds_leave_room_for_the_shipped_model():
    """The caps are far above what training writes, and a model within them decides quickly."""
    from training.pages import boundary

    model = load(MODEL_DIR)
    assert len(model.feature) * 10 < boundary.MAX_NODES and len(model.roots) * 10 < boundary.MAX_STEPS
    assert (MODEL_DIR / "arrays.npz").stat().st_size * 100 < boundary.MAX_FILE_BYTES
    x = np.zeros(len(FEATURES))
    assert 0.0 < model.prob(x) < 1.0


def test_a_damaged_shipped_model_falls_back_to_the_rules_with_one_log_line(tmp_path, monkeypatch, caplog, client):
    """Not a 500 on every page: the splitter uses its rules, and the log says what to regenerate."""
    from training.pages import boundary

    assert boundary.default_model() is not None  # the shipped one verifies
    d = tmp_path / "boundary"
    shutil.copytree(MODEL_DIR, d)
    (d / "arrays.npz").write_bytes(b"damaged")
    monkeypatch.setattr(boundary, "MODEL_DIR", d)
    boundary.default_model.cache_clear()
    try:
        page = "## 标题一\n\n民警走进社区开展普法宣传。\n\n## 标题二\n\n法院依法公开开庭审理了这起案件。"
        with caplog.at_level("ERROR", logger="training.pages.boundary"):
            assert segment(page) == segment(page, model=None)
            answer = client.post("/segment", json={"text": page})
        assert answer.status_code == 200 and answer.get_json()["articles"]
        splitter = client.get("/readyz").get_json()["splitter"]  # operators see it without reading logs
        assert splitter["boundary_model"] == "rules only" and "train_boundaries" in splitter["problem"]
        assert str(tmp_path) not in splitter["problem"]
        logged = [r.getMessage() for r in caplog.records if r.name == "training.pages.boundary"]
        assert len(logged) == 1 and str(d) in logged[0] and "train_boundaries" in logged[0]
    finally:
        monkeypatch.undo()
        boundary.default_model.cache_clear()
