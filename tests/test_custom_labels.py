"""Custom label sets end to end: a taxonomy upload adds judicial_admin (司法行政), drops a label, and the
service (/labels, /classify), the CLI and the model's metadata follow the active model's labels."""

from __future__ import annotations

import csv
import io
import json
import random
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from training import artifacts, pipeline
from training.config import REPO_ROOT, Settings
from training.data import read_csv
from training.errors import DataError, TaxonomyError
from training.jobs import TRAINING_COPY, rows_to_csv
from training.taxonomy import from_meta, label_ids, load_taxonomy, parse_taxonomy, to_meta

from test_lifecycle import wait_job
from conftest import LiveServer

EXAMPLES = REPO_ROOT / "labels" / "examples"
ROWS = EXAMPLES / "judicial_admin.csv"
TAXONOMY = EXAMPLES / "taxonomy_judicial_admin.toml"
FAST = {"cv": 2}
GATE = {"folds": 2, "repeats": 2, "bootstrap": 200}
TOKEN = "custom-labels-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Written for this test (not in the example CSV): the new label must carry over to unseen wording.
UNSEEN = "区司法局召开公证和司法鉴定行业管理工作会议，部署下半年行政复议和行政执法监督工作。"


def corpus_subset(per_label: int = 30, seed: int = 1) -> list[dict]:
    """About per_label rows of each shipped label from labels/corpus.csv (a small base for speed)."""
    rows = list(csv.DictReader(open(REPO_ROOT / "labels" / "corpus.csv", encoding="utf-8")))
    random.Random(seed).shuffle(rows)
    counts: Counter = Counter()
    picked = []
    for row in rows:
        tags = [t for t in row["labels"].split("|") if t]
        if any(counts[t] < per_label for t in tags) or (not tags and counts[""] < per_label // 2):
            picked.append({"text": row["text"], "title": row["title"], "labels": tags})
            counts.update(tags or [""])
    return picked


@pytest.fixture(scope="module")
def base_models(tmp_path_factory) -> Path:
    """A models directory whose active model was trained on a corpus subset (with its training copy)."""
    root = tmp_path_factory.mktemp("custom-models")
    raw = rows_to_csv(corpus_subset())
    labels = label_ids(Settings().taxonomy_path)
    data = read_csv(raw, labels)
    model, info = pipeline.fit(data, labels, FAST)
    meta = {"labels": labels, "thresholds": info["thresholds"], "params": info["params"],
            "training": {"rows": len(data), "sha256": data.sha256}}
    path = artifacts.save_model(model, meta, root, "base-1", extra_files={TRAINING_COPY: raw})
    artifacts.set_active(root, path.name)
    return root


def test_the_example_taxonomy_adds_judicial_admin_to_the_shipped_labels():
    shipped = load_taxonomy(Settings().taxonomy_path)
    example = load_taxonomy(TAXONOMY)
    assert example[: len(shipped)] == shipped
    added = example[-1]
    assert (added.id, added.name, added.colour) == ("judicial_admin", "司法行政", "#8c564b")
    assert parse_taxonomy(json.dumps({"label": to_meta(example)}, ensure_ascii=False)) == example  # JSON round trip
    rows = list(csv.DictReader(open(ROWS, encoding="utf-8")))
    tags = Counter(r["labels"] for r in rows)
    # 40 positives, and contrast rows: 司法局/司法所 work the definition leaves to 普法 or to no label
    assert tags["judicial_admin"] == 40 and tags["legal_publicity"] >= 5 and tags[""] >= 5


BAD_TAXONOMIES = [
    pytest.param('[[label]]\nid = "x1"\nname = "甲"\n', "lacks 'definition'", id="no-definition"),
    pytest.param('[[label]]\nid = "Bad Id"\nname = "甲"\ndefinition = "d"\n', "lower-case letters", id="bad-id"),
    pytest.param('[[label]]\nid = "a"\nname = "甲"\ndefinition = "d"\ncolour = "red"\n', "#1f77b4", id="bad-colour"),
    pytest.param('[[label]]\nid = "a"\nname = "甲"\ndefinition = "d"\ninstitution_patterns = ["(司法+)+局"]\n', "linear", id="nested-repeat"),
    pytest.param('[[label]]\nid = "a"\nname = "甲"\ndefinition = "d"\ninstitution_patterns = [".*局"]\n', "linear", id="unbounded"),
    pytest.param('{"label": [{"id": "a", "name": "甲", "definition": "d"}, {"id": "a", "name": "乙", "definition": "e"}]}', "duplicate", id="duplicate-json"),
    pytest.param('{"label": "x"}', "list", id="json-not-list"),
    pytest.param("version = 1\n", "no [[label]]", id="empty"),
    pytest.param("[[label", "invalid TOML", id="bad-toml"),
]


@pytest.mark.parametrize("text,message", BAD_TAXONOMIES)
def test_a_bad_taxonomy_is_refused_naming_the_problem(text, message):
    with pytest.raises(TaxonomyError, match=None) as info:
        parse_taxonomy(text, "my.toml")
    assert message in str(info.value) and "my.toml" in str(info.value)


def test_a_model_without_a_stored_label_set_falls_back_to_the_taxonomy_file():
    labels = from_meta({"labels": ["courts", "custom"], "label_names": {"custom": "自定义"}}, Settings().taxonomy_path)
    assert [l.id for l in labels] == ["courts", "custom"] and labels[0].name == "法院" and labels[1].name == "自定义"


def test_an_unknown_label_without_a_definition_names_the_row_and_the_label():
    raw = "text,labels\n法院依法公开宣判一起盗窃案件。,courts\n区司法局召开公证工作会议。,judicial_admin\n".encode()
    with pytest.raises(DataError) as info:
        read_csv(raw, label_ids(Settings().taxonomy_path), min_per_label=0)
    assert "row 3" in str(info.value) and "'judicial_admin'" in str(info.value) and "taxonomy" in str(info.value)


def test_cli_trains_a_model_with_the_new_label(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from training.cli import main

    base = tmp_path / "base.csv"
    base.write_bytes(rows_to_csv(corpus_subset()))
    monkeypatch.setenv("TAGGER_MODELS_DIR", str(tmp_path / "models"))
    runner = CliRunner()
    args = ["train", str(base), str(ROWS), "--taxonomy", str(TAXONOMY), "--version", "ja-1"]
    result = runner.invoke(main, args + [x for k, v in FAST.items() for x in ("--param", f"{k}={v}")])
    assert result.exit_code == 0, result.output
    meta = artifacts.read_meta(tmp_path / "models", "ja-1")
    assert meta["labels"][-1] == "judicial_admin" and meta["label_names"]["judicial_admin"] == "司法行政"
    assert [l["id"] for l in meta["taxonomy"]] == meta["labels"] and meta["taxonomy"][-1]["colour"] == "#8c564b"
    out = runner.invoke(main, ["classify", "-"], input=UNSEEN)
    assert out.exit_code == 0, out.output
    tagged = json.loads(out.output.strip().splitlines()[-1])
    assert tagged["labels"][0] == "judicial_admin" and set(tagged["scores"]) == set(meta["labels"])


def _wait(url: str, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(f"{url}/jobs/{job_id}", headers=AUTH, timeout=10).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job['state']}")


def test_worked_example_over_http_adds_judicial_admin_with_base_corpus(base_models, tmp_path):
    """README "Your own labels": upload the rows and the taxonomy, base=corpus, activate, see the label."""
    import shutil

    models = tmp_path / "models"
    shutil.copytree(base_models, models)
    server = LiveServer(models, tmp_path, workers=1, TAGGER_ADMIN_TOKEN=TOKEN, TAGGER_MODEL_RELOAD_SECONDS="0.5").wait_ready()
    try:
        before = requests.get(server.url + "/labels", timeout=10).json()["labels"]
        assert "judicial_admin" not in [l["id"] for l in before]
        files = {"file": ("judicial_admin.csv", ROWS.read_bytes(), "text/csv"),
                 "taxonomy": ("taxonomy.toml", TAXONOMY.read_bytes(), "application/toml")}
        form = {"base": "corpus", "activate": "always", "params": json.dumps(FAST), "gate": json.dumps(GATE)}
        response = requests.post(server.url + "/train", files=files, data=form, headers=AUTH, timeout=30)
        assert response.status_code == 202, response.text
        job = _wait(server.url, response.json()["id"])
        assert job["state"] == "done", job
        report = job["report"]
        assert report["activated"] and report["labels"]["new"] == ["judicial_admin"] and report["labels"]["dropped"] == []
        assert report["rows"]["per_label"]["judicial_admin"] == 40 and report["rows"]["per_label"]["courts"] >= 30  # base kept
        new = report["evaluation"]["per_label"]["judicial_admin"]
        assert new["status"] == "new" and new["measured"] and 0 <= new["interval"][0] <= new["f1"] <= new["interval"][1]
        assert report["gate"]["sentence"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the worker reloads the activated model within the reload interval
            labels = requests.get(server.url + "/labels", timeout=10).json()["labels"]
            if "judicial_admin" in [l["id"] for l in labels]:
                break
            time.sleep(0.3)
        added = [l for l in labels if l["id"] == "judicial_admin"]
        assert added and added[0]["name"] == "司法行政" and added[0]["colour"] == "#8c564b"
        tagged = requests.post(server.url + "/classify", json={"text": UNSEEN}, timeout=10).json()
        assert tagged["model"] == job["version"] and "judicial_admin" in tagged["scores"]
        assert tagged["labels"][:1] == ["judicial_admin"], tagged
        page = requests.get(f"{server.url}/jobs/{job['id']}/report", headers=AUTH, timeout=10).text
        assert "质量闸门" in page and "司法行政" in page
    finally:
        server.stop()


def test_a_label_can_be_dropped_and_its_rows_keep_their_other_labels(base_models, tmp_path):
    import shutil

    from service import create_app

    models = tmp_path / "models"
    shutil.copytree(base_models, models)
    settings = Settings(models_dir=models, data_dir=tmp_path / "var", admin_token=TOKEN, model_reload_seconds=0.0)
    client = create_app({"TESTING": True, "TAGGER": settings}).test_client()
    kept = [l.to_meta() for l in load_taxonomy(Settings().taxonomy_path) if l.id != "legal_publicity"]
    rows = [{"text": r["text"], "labels": [t for t in r["labels"] if t != "legal_publicity"]} for r in corpus_subset(12, seed=2)]
    response = client.post("/train", json={"rows": rows, "taxonomy": {"label": kept}, "base": "corpus", "activate": "always",
                                           "params": FAST, "gate": GATE}, headers=AUTH)
    assert response.status_code == 202, response.get_json()
    job = wait_job(client, response.get_json()["id"], timeout=300, headers=AUTH)
    assert job["state"] == "done", job
    assert job["report"]["labels"]["dropped"] == ["legal_publicity"]
    assert job["report"]["evaluation"]["dropped"] == ["legal_publicity"]
    assert [l["id"] for l in client.get("/labels").get_json()["labels"]] == ["policing", "courts", "procuratorate"]
    scores = client.post("/classify", json={"text": UNSEEN}).get_json()["scores"]
    assert set(scores) == {"policing", "courts", "procuratorate"}
    # a correction may only use the active model's labels
    bad = client.post("/feedback", json={"text": UNSEEN, "labels": ["legal_publicity"]}, headers=AUTH)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "labels"


@pytest.mark.parametrize("taxonomy,message", [
    ('[[label]]\nid = "a"\nname = "甲"\n', "lacks 'definition'"),
    ({"label": [{"id": "a", "name": "甲", "definition": "d", "institution_patterns": ["(a+)+"]}]}, "linear"),
    (42, "taxonomy must be"),
])
def test_train_refuses_a_bad_taxonomy_with_400_naming_the_field(base_models, tmp_path, taxonomy, message):
    from service import create_app

    settings = Settings(models_dir=base_models, data_dir=tmp_path / "var", admin_token=TOKEN)
    client = create_app({"TESTING": True, "TAGGER": settings}).test_client()
    response = client.post("/train", json={"rows": [{"text": "法院宣判", "labels": ["courts"]}], "taxonomy": taxonomy}, headers=AUTH)
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["field"] == "taxonomy" and message in error["message"]
