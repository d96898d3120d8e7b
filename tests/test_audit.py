"""The training-set audit: confident-learning suspects, conflicting duplicates, short rows; CLI and POST /audit."""

from __future__ import annotations

import io
import json
import random
import time

import numpy as np
import pytest

from training.audit.plant import plant_errors
from training.audit import audit_rows, duplicate_groups, rank_label_issues, read_rows
from training.jobs import rows_to_csv

from test_custom_labels import AUTH, TOKEN, corpus_subset

LABELS = ["policing", "courts", "procuratorate", "legal_publicity"]

from test_lifecycle import wait_job


def planted(seed: int = 3, per_label: int = 25, share: float = 0.1):
    """A corpus subset with `share` of its rows' labels flipped or dropped: (rows, planted row numbers)."""
    rows = corpus_subset(per_label, seed=seed)
    corrupted, chosen = plant_errors([set(r["labels"]) for r in rows], LABELS, share, seed)
    for row, tags in zip(rows, corrupted):
        row["labels"] = sorted(tags)
    return rows, {i + 1 for i in chosen}


def test_planting_changes_exactly_the_chosen_rows():
    rows = [set(), {"courts"}, {"courts", "policing"}, set(LABELS)] * 25
    corrupted, chosen = plant_errors(rows, LABELS, 0.1, seed=1)
    assert len(chosen) == 10 and all((corrupted[i] != rows[i]) == (i in chosen) for i in range(len(rows)))


def test_confident_learning_flags_rows_whose_label_the_model_contradicts():
    proba = np.array([[0.9], [0.8], [0.85], [0.1], [0.2], [0.15], [0.95], [0.05]])
    given = [{"a"}, {"a"}, {"a"}, set(), set(), set(), set(), {"a"}]  # row 6 lacks a, row 7 has it wrongly
    issues = rank_label_issues(given, proba, ["a"])
    assert [(i, kind) for i, kind, _, _ in issues] == [(6, "missing_label"), (7, "extra_label")]
    assert issues[0][3] == pytest.approx(0.95)


def test_duplicates_exact_and_near_with_conflicting_labels():
    base = "某区人民法院今天依法公开开庭审理一起非法吸收公众存款案件，被告人当庭认罪。" * 3
    texts = [base, base.replace("今天", "今日", 1), "  " + base.upper() + " ", "检察院召开检察听证会，听取各方意见。", base[:12]]
    groups = {tuple(sorted(g)): s for g, s in duplicate_groups(texts)}
    assert list(groups) == [(0, 1, 2)] and 0.9 <= groups[(0, 1, 2)] < 1.0
    data, rows, _ = read_rows(rows_to_csv([{"text": t, "labels": l} for t, l in zip(texts, [["courts"], ["procuratorate"], ["courts"], ["procuratorate"], []])]))
    result = audit_rows(data, rows, labels=[], folds=2)
    kinds = {(f.row, f.kind) for f in result.findings}
    assert {(1, "duplicate_conflict"), (2, "duplicate_conflict"), (3, "duplicate_conflict"), (5, "too_short")} <= kinds
    assert (4, "duplicate_conflict") not in kinds


def test_near_duplicate_search_grows_about_linearly():
    """MinHash/LSH: 4x the rows costs nowhere near 16x (what comparing every pair would)."""
    rng = random.Random(0)
    alphabet = "法院检察公安民警审判起诉宣传调解社区群众企业案件依法工作会议开展推进"

    def texts(n):
        return ["".join(rng.choice(alphabet) for _ in range(120)) for _ in range(n)]

    def timed(n):
        data = texts(n)
        start = time.perf_counter()
        duplicate_groups(data)
        return time.perf_counter() - start

    small, large = min(timed(400) for _ in range(2)), min(timed(1600) for _ in range(2))
    assert large / small < 9, (small, large)


def test_planted_errors_rank_near_the_top():
    rows, truth = planted()
    data, numbers, _ = read_rows(rows_to_csv(rows))
    result = audit_rows(data, numbers, labels=LABELS, folds=3, params={"cv": 2})
    suspects = []
    for f in result.findings:
        if f.kind in ("missing_label", "extra_label") and f.row not in suspects:
            suspects.append(f.row)
    top = suspects[: len(truth)]
    assert len(set(top) & truth) / len(truth) >= 0.5, (top, truth)


def test_cli_audit_prints_json_lines_and_warns_on_rare_labels(tmp_path, runner):
    from training.cli import main

    rows, truth = planted()
    rows.append({"text": "区司法局召开公证工作会议，部署下半年公证质量检查工作。", "labels": ["judicial_admin"]})
    path = tmp_path / "mine.csv"
    path.write_bytes(rows_to_csv(rows))
    result = runner.invoke(main, ["audit", str(path), "--json", "--folds", "3", "--param", "cv=2"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines and all({"row", "kind", "label", "score"} <= set(x) for x in lines)
    assert [x["score"] for x in lines] == sorted((x["score"] for x in lines), reverse=True)
    assert {x["kind"] for x in lines} <= {"missing_label", "extra_label", "duplicate_conflict", "too_short"}
    assert any(x["row"] in truth for x in lines[:10])
    assert "judicial_admin" in result.stderr and "not audited" in result.stderr


def test_post_audit_runs_as_a_job_with_ranked_findings_and_a_report(models_dir, tmp_path):
    import shutil

    from service import create_app
    from training.config import Settings

    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    client = create_app({"TESTING": True, "TAGGER": Settings(models_dir=models, data_dir=tmp_path / "var", admin_token=TOKEN)}).test_client()
    rows, truth = planted()
    assert client.post("/audit", json={"rows": rows}).status_code == 401
    response = client.post("/audit", data={"file": (io.BytesIO(rows_to_csv(rows)), "mine.csv"), "folds": "3", "params": '{"cv": 2}'},
                           headers=AUTH, content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["id"]
    job = wait_job(client, job_id, timeout=300, headers=AUTH)
    assert job["state"] == "done", job
    findings = job["report"]["findings"]
    assert findings and findings[0]["score"] >= findings[-1]["score"] and any(f["row"] in truth for f in findings[:10])
    page = client.get(f"/jobs/{job_id}/report", headers=AUTH)
    assert page.status_code == 200 and "数据审查" in page.get_data(as_text=True)
    bad = client.post("/audit", json={"rows": rows, "folds": 1}, headers=AUTH)
    assert bad.status_code == 400
