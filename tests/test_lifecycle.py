"""Retraining and the model lifecycle over the API."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import threading
import time

import pytest

from training import artifacts
from training.config import Settings
from training.store import Store

from conftest import DATA

TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def store_dir(models_dir, tmp_path):
    """A private copy of the tiny models directory (tests here change it)."""
    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    return root


@pytest.fixture()
def admin_settings(store_dir, tmp_path):
    return Settings(models_dir=store_dir, data_dir=tmp_path / "var", admin_token=TOKEN, keep_versions=3, model_reload_seconds=0.0)


@pytest.fixture()
def admin_client(admin_settings):
    from service import create_app

    return create_app({"TESTING": True, "TAGGER": admin_settings}).test_client()


def tiny_rows() -> list[dict]:
    rows = list(csv.DictReader(open(DATA / "tiny.csv", encoding="utf-8")))
    out = []
    for r in rows:  # the tiny corpus plus a reworded copy, so there is enough to hold out
        out.append({"text": r["text"], "labels": [l for l in r["labels"].split("|") if l]})
        out.append({"text": "据报道，" + r["text"], "labels": [l for l in r["labels"].split("|") if l]})
    return out


def wait_job(client, job_id: str, timeout: float = 120, headers: dict | None = None) -> dict:
    """The job once it is done or failed (polled through a test client)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}", headers=headers or AUTH).get_json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']}")


def test_admin_endpoints_are_disabled_without_a_configured_token(client):
    response = client.post("/train", json={"rows": tiny_rows()})
    assert response.status_code == 403
    assert "TAGGER_ADMIN_TOKEN" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("headers,status", [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": "Basic abc"}, 401)])
@pytest.mark.parametrize("method,path", [("post", "/train"), ("post", "/models/tiny-1/activate"), ("post", "/models/rollback"),
                                         ("delete", "/models/tiny-1"), ("post", "/feedback"), ("get", "/feedback/export"), ("get", "/review")])
def test_wrong_or_missing_token_is_refused(admin_client, method, path, headers, status):
    response = getattr(admin_client, method)(path, headers=headers, json={})
    assert response.status_code == status and response.get_json()["error"]["code"] == "unauthorized"


def test_read_token_guards_classify(admin_settings):
    from dataclasses import replace

    from service import create_app

    client = create_app({"TESTING": True, "TAGGER": replace(admin_settings, read_token="reader")}).test_client()
    assert client.post("/classify", json={"text": "法院宣判"}).status_code == 401
    assert client.post("/classify", json={"text": "法院宣判"}, headers={"Authorization": "Bearer reader"}).status_code == 200
    assert client.post("/classify", json={"text": "法院宣判"}, headers=AUTH).status_code == 200


def test_train_from_json_rows_activates_and_serves_the_new_version(admin_client, store_dir):
    response = admin_client.post("/train", json={"rows": tiny_rows(), "activate": "always"}, headers=AUTH)
    assert response.status_code == 202
    job = wait_job(admin_client, response.get_json()["id"])
    assert job["state"] == "done", job
    report = job["report"]
    assert report["activated"] and report["rows"]["held_out"] > 0
    assert set(report["new"]["per_label"]) == set(report["active"]["per_label"])  # side by side
    assert artifacts.read_active(store_dir)["active"] == job["version"]
    assert admin_client.post("/classify", json={"text": "法院宣判"}).get_json()["model"] == job["version"]
    assert (store_dir / job["version"] / "training.csv").is_file()
    page = admin_client.get(f"/jobs/{job['id']}/report", headers=AUTH)
    assert page.status_code == 200 and "policing" in page.get_data(as_text=True)
    assert admin_client.get(f"/jobs/{job['id']}/report").status_code == 401


def test_train_from_multipart_csv_upload(admin_client):
    data = (DATA / "tiny.csv").read_bytes()
    response = admin_client.post("/train", data={"file": (io.BytesIO(data), "tiny.csv"), "activate": "never"}, headers=AUTH,
                                 content_type="multipart/form-data")
    assert response.status_code == 202
    job = wait_job(admin_client, response.get_json()["id"])
    assert job["state"] == "done" and job["report"]["activated"] is False


def test_if_better_keeps_the_active_model_when_the_gate_fails(admin_client, store_dir):
    rows = tiny_rows()
    for row in rows[::2]:  # half the labels wrong: the candidate must not beat the active model
        row["labels"] = ["courts"] if row["labels"] != ["courts"] else ["policing"]
    job = wait_job(admin_client, admin_client.post("/train", json={"rows": rows}, headers=AUTH).get_json()["id"])
    assert job["state"] == "done"
    assert job["report"]["gate"]["passed"] is False and job["report"]["gate"]["reasons"]
    assert artifacts.read_active(store_dir)["active"] == "tiny-1"


BAD_UPLOADS = [
    pytest.param(b"text,labels\n" + "\n".join(f"法院宣判{i},courtz" for i in range(30)).encode(), "row 2: unknown label", id="unknown-label"),
    pytest.param("text,tags\n法院,courts\n".encode(), "missing column", id="missing-columns"),
    pytest.param(b"\xff\xfe\x00\x01" * 1000, "UTF-8", id="bad-encoding"),
    pytest.param(b"text,labels\n" + "\n".join(f"法院宣判{i},courts" for i in range(30)).encode(), "label 'policing': 0 example", id="too-few-per-label"),
    pytest.param(bytes(range(256)) * 4096, "", id="junk"),
]


@pytest.mark.parametrize("raw,message", BAD_UPLOADS)
def test_bad_uploads_fail_fast_and_the_active_model_keeps_serving(admin_client, store_dir, raw, message):
    response = admin_client.post("/train", data={"file": (io.BytesIO(raw), "bad.csv")}, headers=AUTH, content_type="multipart/form-data")
    job = wait_job(admin_client, response.get_json()["id"], timeout=30)
    assert job["state"] == "failed"
    assert message in job["message"] + json.dumps(job["errors"], ensure_ascii=False)
    assert artifacts.read_active(store_dir)["active"] == "tiny-1"
    assert artifacts.list_versions(store_dir) == ["tiny-1"]
    assert admin_client.post("/classify", json={"text": "法院宣判"}).status_code == 200


@pytest.mark.parametrize("payload,field", [({"rows": []}, "rows"), ({"rows": [{"text": "a"}], "base": "all"}, "base"),
                                           ({"rows": [{"text": "a"}], "activate": "maybe"}, "activate"),
                                           ({"rows": [{"text": "a"}], "params": {"C": -5}}, "params"),
                                           ({"rows": [{"text": "a"}], "params": {"gamma": 1}}, "params")])
def test_bad_train_requests_are_400(admin_client, payload, field):
    response = admin_client.post("/train", json=payload, headers=AUTH)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_two_concurrent_jobs_both_complete_with_distinct_versions(admin_client):
    ids = [admin_client.post("/train", json={"rows": tiny_rows(), "activate": "never"}, headers=AUTH).get_json()["id"] for _ in range(2)]
    jobs = [wait_job(admin_client, i) for i in ids]
    assert [j["state"] for j in jobs] == ["done", "done"]
    assert jobs[0]["version"] != jobs[1]["version"]


def test_a_job_of_a_dead_process_is_marked_failed_on_restart(admin_settings, store_dir):
    from service import create_app

    store = Store(admin_settings.data_dir / "tagger.sqlite3")
    job_id = store.create_job({"base": "upload"})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import os

    store.update_job(job_id, state="training", owner=f"{os.uname().nodename}:{dead.pid}")
    client = create_app({"TESTING": True, "TAGGER": admin_settings}).test_client()  # the "restart"
    job = client.get(f"/jobs/{job_id}", headers=AUTH).get_json()
    assert job["state"] == "failed" and "interrupted" in job["message"]
    assert artifacts.list_versions(store_dir) == ["tiny-1"]


def test_a_version_saved_just_before_a_kill_is_linked_to_its_job(admin_settings, store_dir, tiny_model):
    """Killed between save_model and the job's last update: the job names the version it wrote."""
    import os

    from service import create_app

    store = Store(admin_settings.data_dir / "tagger.sqlite3")
    job_id = store.create_job({"base": "upload"})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.update_job(job_id, state="evaluating", owner=f"{os.uname().nodename}:{dead.pid}")
    pipe, info = tiny_model
    saved = artifacts.save_model(pipe, {"thresholds": info["thresholds"], "training": {"job": job_id}}, store_dir, "from-killed-job")
    client = create_app({"TESTING": True, "TAGGER": admin_settings}).test_client()  # the "restart"
    job = client.get(f"/jobs/{job_id}", headers=AUTH).get_json()
    assert job["state"] == "failed" and job["version"] == saved.name
    assert "no model was written" not in job["message"] and f"/models/{saved.name}/activate" in job["message"]
    assert artifacts.read_active(store_dir)["active"] == "tiny-1"  # never activated behind the user's back


def test_activate_rollback_and_delete(admin_client, store_dir, tiny_model):
    artifacts.save_model(tiny_model[0], {"thresholds": tiny_model[1]["thresholds"]}, store_dir, "tiny-2")
    assert admin_client.post("/models/nope/activate", headers=AUTH).status_code == 404
    assert admin_client.post("/models/tiny-2/activate", headers=AUTH).get_json()["active"] == "tiny-2"
    assert admin_client.post("/classify", json={"text": "法院宣判"}).get_json()["model"] == "tiny-2"
    assert admin_client.delete("/models/tiny-2", headers=AUTH).status_code == 409  # active
    assert admin_client.delete("/models/tiny-1", headers=AUTH).status_code == 409  # rollback target
    assert admin_client.post("/models/rollback", headers=AUTH).get_json()["active"] == "tiny-1"
    assert admin_client.post("/classify", json={"text": "法院宣判"}).get_json()["model"] == "tiny-1"


def test_activating_a_corrupt_version_is_refused_and_changes_nothing(admin_client, store_dir, tiny_model):
    artifacts.save_model(tiny_model[0], {}, store_dir, "tiny-bad")
    (store_dir / "tiny-bad" / "model.npz").write_bytes(b"not a model")
    response = admin_client.post("/models/tiny-bad/activate", headers=AUTH)
    assert response.status_code == 409 and "checksum" in response.get_json()["error"]["message"]
    assert artifacts.read_active(store_dir)["active"] == "tiny-1"


def test_retention_keeps_the_last_versions_and_never_the_active_one(store_dir, tiny_model):
    for i in range(5):
        artifacts.save_model(tiny_model[0], {}, store_dir, f"v{i}")
    removed = artifacts.prune(store_dir, keep=3)
    assert "tiny-1" not in removed and len(artifacts.list_versions(store_dir)) == 3 + 1


def test_feedback_is_stored_deduplicated_and_exported(admin_client):
    body = {"text": "某县人民检察院召开公开听证会。", "labels": ["procuratorate"]}
    assert admin_client.post("/feedback", json=body, headers=AUTH).status_code == 201
    second = admin_client.post("/feedback", json=body, headers=AUTH)
    assert second.status_code == 200 and second.get_json()["duplicate"] is True
    admin_client.post("/feedback", json={**body, "labels": ["procuratorate", "legal_publicity"]}, headers=AUTH)
    rows = list(csv.DictReader(io.StringIO(admin_client.get("/feedback/export", headers=AUTH).get_data(as_text=True))))
    assert [(r["text"], r["labels"]) for r in rows] == [(body["text"], "legal_publicity|procuratorate")]
    bad = admin_client.post("/feedback", json={"text": "x", "labels": ["police"]}, headers=AUTH)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "labels"


def test_training_can_include_feedback(admin_client):
    admin_client.post("/feedback", json={"text": "旗人民法院巡回法庭在牧区开庭审理草场纠纷。", "labels": ["courts"]}, headers=AUTH)
    job = wait_job(admin_client, admin_client.post("/train", json={"rows": tiny_rows(), "include_feedback": True, "activate": "never"}, headers=AUTH).get_json()["id"])
    assert job["state"] == "done" and job["report"]["rows"]["feedback"] == 1


def test_review_returns_the_least_certain_recent_texts(admin_client):
    texts = ["派出所民警抓获盗窃嫌疑人", "今天天气晴朗", "法院", "检察院对嫌疑人批准逮捕"]
    admin_client.post("/classify", json={"texts": texts})
    items = admin_client.get("/review?n=3", headers=AUTH).get_json()["items"]
    assert len(items) == 3
    margins = [i["margin"] for i in items]
    assert margins == sorted(margins) and {i["text"] for i in items} <= set(texts)
    assert admin_client.get("/review?n=0", headers=AUTH).status_code == 400


def test_retraining_under_load_fails_no_request(admin_client, store_dir):
    """/classify runs the whole time a job trains and activates: zero failures, valid versions."""
    seen, failures, stop = [], [], threading.Event()
    active_over_time = {"tiny-1"}

    def hammer():
        while not stop.is_set():
            response = admin_client.post("/classify", json={"text": "县人民法院公开宣判一起盗窃案"})
            if response.status_code != 200:
                failures.append(response.status_code)
            else:
                seen.append(response.get_json()["model"])

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        job = wait_job(admin_client, admin_client.post("/train", json={"rows": tiny_rows(), "activate": "always"}, headers=AUTH).get_json()["id"])
        active_over_time.add(job["version"])
        deadline = time.monotonic() + 10
        while job["version"] not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert set(seen) <= active_over_time and job["version"] in seen
    # Once the new version answered, the old one never did again.
    assert "tiny-1" not in seen[seen.index(job["version"]):]
