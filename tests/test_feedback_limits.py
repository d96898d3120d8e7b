"""POST /feedback takes text like /classify does; DELETE /feedback/<id> removes one correction."""

from __future__ import annotations

import csv
import io
import json

import pytest

from test_lifecycle import AUTH, admin_client, admin_settings, store_dir  # noqa: F401


def post_raw(client, body: str):
    return client.post("/feedback", data=body.encode("utf-8"), headers={**AUTH, "Content-Type": "application/json"})


@pytest.mark.parametrize("body,status,code,words", [
    (json.dumps({"text": "法" * 100_001, "labels": []}), 413, "text_too_long", "TAGGER_MAX_TEXT_CHARS"),
    (json.dumps({"text": "法" * 2_400_000, "labels": ["courts"]}, ensure_ascii=False), 413, "text_too_long", "limit is 100000"),
    ('{"text": "法院\\ud800宣判", "labels": []}', 400, "bad_encoding", "lone UTF-16 surrogate \\ud800 at character 2"),
    ('{"text": "\\udfff", "labels": ["courts"]}', 400, "bad_encoding", "surrogate"),
    ('{"text": "  \\n ", "labels": []}', 400, "empty_text", "text"),
])
def test_feedback_text_is_checked_like_classify(admin_client, body, status, code, words):
    response = post_raw(admin_client, body)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["field"] == "text" and words in error["message"]
    assert admin_client.get("/feedback/export", headers=AUTH).get_data(as_text=True).strip() == "id,text,labels"


def test_feedback_at_the_limit_is_stored(admin_client):
    assert post_raw(admin_client, json.dumps({"text": "法" * 100_000, "labels": []})).status_code == 201


def test_delete_feedback_removes_one_correction(admin_client):
    ids = [admin_client.post("/feedback", json={"text": text, "labels": ["courts"]}, headers=AUTH).get_json()["id"]
           for text in ("法院宣判一起盗窃案。", "法院审理一起合同纠纷。")]
    response = admin_client.delete(f"/feedback/{ids[0]}", headers=AUTH)
    assert response.status_code == 200 and response.get_json() == {"deleted": ids[0]}
    rows = list(csv.DictReader(io.StringIO(admin_client.get("/feedback/export", headers=AUTH).get_data(as_text=True))))
    assert [r["text"] for r in rows] == ["法院审理一起合同纠纷。"]


@pytest.mark.parametrize("path,status", [("/feedback/999", 404), ("/feedback/abc", 404), ("/feedback/-1", 404)])
def test_delete_of_a_missing_correction_is_404_json(admin_client, path, status):
    response = admin_client.delete(path, headers=AUTH)
    assert response.status_code == status and response.is_json and response.get_json()["error"]["code"] in ("no_such_feedback", "not_found")


def test_delete_feedback_needs_the_admin_token(admin_client):
    feedback_id = admin_client.post("/feedback", json={"text": "检察院起诉。", "labels": []}, headers=AUTH).get_json()["id"]
    assert admin_client.delete(f"/feedback/{feedback_id}").status_code == 401
    assert "检察院起诉" in admin_client.get("/feedback/export", headers=AUTH).get_data(as_text=True)
