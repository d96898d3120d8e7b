"""The data directory as an unlucky operator leaves it: failed writes, read-only, full, missing."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from training import artifacts
from training.cli import main
from training.config import REPO_ROOT, Settings
from training.jobs import prune_versions, remove_failed_uploads, upload_path
from training.store import Store

from conftest import free_port, wait_ready
from test_lifecycle import AUTH, TOKEN, admin_client, admin_settings, store_dir, tiny_rows, wait_job  # noqa: F401

DAY = 86400.0


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- failed uploads: retention ----------------------------------------------------------
@pytest.mark.parametrize("days", [7.0, 1.0, 0.5])
def test_failed_uploads_are_removed_after_the_retention_and_others_kept(admin_settings, days, monkeypatch):
    monkeypatch.setenv("TAGGER_FAILED_UPLOAD_DAYS", str(days))
    settings = Settings.from_env(models_dir=admin_settings.models_dir, data_dir=admin_settings.data_dir)
    assert settings.failed_upload_days == days
    store = Store(settings.data_dir / "tagger.sqlite3")
    now = time.time()
    jobs = {}
    for name, state, age in [("old_failed", "failed", days + 0.1), ("new_failed", "failed", days - 0.1),
                             ("old_done", "done", days + 5), ("running", "training", days + 5)]:
        jobs[name] = store.create_job({})
        store.update_job(jobs[name], state=state, finished=now - age * DAY)
        upload_path(settings, jobs[name]).parent.mkdir(parents=True, exist_ok=True)
        upload_path(settings, jobs[name]).write_bytes(b"text,labels\n")
    assert remove_failed_uploads(store, settings, now=now) == [jobs["old_failed"]]
    kept = {name for name, job_id in jobs.items() if upload_path(settings, job_id).exists()}
    assert kept == {"new_failed", "old_done", "running"}


def test_retention_runs_at_service_start(admin_settings):
    from service import create_app

    store = Store(admin_settings.data_dir / "tagger.sqlite3")
    job_id = store.create_job({})
    store.update_job(job_id, state="failed", finished=time.time() - 30 * DAY)
    upload_path(admin_settings, job_id).parent.mkdir(parents=True, exist_ok=True)
    upload_path(admin_settings, job_id).write_bytes(b"x")
    create_app({"TESTING": True, "TAGGER": admin_settings})
    assert not upload_path(admin_settings, job_id).exists()


# --- a failed upload write ----------------------------------------------------------------
@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "read-only")])
def test_a_failed_upload_write_fails_the_job_and_answers_503(admin_client, admin_settings, monkeypatch, code, words):
    real = Path.write_bytes

    def failing(self, data):
        if self.parent.name == "uploads":
            raise OSError(code, os.strerror(code), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    response = admin_client.post("/train", json={"rows": tiny_rows()}, headers=AUTH)
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "data_dir_unavailable" and words in error["message"] and "TAGGER_DATA_DIR" in error["message"]
    [job] = admin_client.get("/jobs", headers=AUTH).get_json()["jobs"]
    assert job["state"] == "failed" and "the upload could not be saved" in job["message"] and words in job["message"]
    assert not list((admin_settings.data_dir / "uploads").glob("*.csv"))


# --- read-only endpoints need no write transaction ----------------------------------------
def no_writes(monkeypatch):
    def refuse(self):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(Store, "_open", refuse)  # every write path opens its connection here


def test_read_endpoints_work_when_nothing_can_be_written(admin_client, admin_settings, monkeypatch):
    store = Store(admin_settings.data_dir / "tagger.sqlite3")
    orphan = store.create_job({})
    store.update_job(orphan, state="training", owner=f"{os.uname().nodename}:{dead_pid()}")
    admin_client.post("/feedback", json={"text": "法院宣判一起盗窃案。", "labels": ["courts"]}, headers=AUTH)
    admin_client.post("/classify", json={"text": "派出所民警抓获嫌疑人"})
    no_writes(monkeypatch)
    for path in ["/jobs", f"/jobs/{orphan}", "/review", "/feedback/export"]:
        response = admin_client.get(path, headers=AUTH)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
    job = admin_client.get(f"/jobs/{orphan}", headers=AUTH).get_json()
    assert job["state"] == "failed" and "interrupted" in job["message"]  # shown without a write
    assert "法院宣判" in admin_client.get("/feedback/export", headers=AUTH).get_data(as_text=True)
    refused = admin_client.post("/feedback", json={"text": "检察院起诉。", "labels": []}, headers=AUTH)
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "data_dir_unavailable"
    assert "read-only" in refused.get_json()["error"]["message"]


def test_an_existing_database_in_a_read_only_directory_opens_for_reading(admin_settings, monkeypatch):
    from service import create_app

    Store(admin_settings.data_dir / "tagger.sqlite3").add_feedback("法院宣判。", ["courts"])
    no_writes(monkeypatch)
    client = create_app({"TESTING": True, "TAGGER": admin_settings}).test_client()
    assert client.get("/jobs", headers=AUTH).status_code == 200
    assert "法院宣判" in client.get("/feedback/export", headers=AUTH).get_data(as_text=True)
    assert client.post("/classify", json={"text": "法院宣判"}).status_code == 200


# --- prune survives a bad version directory ------------------------------------------------
@pytest.mark.parametrize("bad", ["bad name!", "unreadable"])
def test_prune_skips_a_bad_version_directory(store_dir, tiny_model, bad, monkeypatch):
    (store_dir / bad).mkdir()
    (store_dir / bad / "model.json").write_bytes(b"\xff\xfe not json")  # oldest: sorts first
    if bad == "unreadable":
        real = artifacts.delete_version

        def failing(models_dir, version):
            if version == bad:
                raise PermissionError(errno.EACCES, "Permission denied", str(store_dir / bad))
            return real(models_dir, version)

        monkeypatch.setattr(artifacts, "delete_version", failing)
    for i in range(3):
        artifacts.save_model(tiny_model[0], {}, store_dir, f"v{i}")
    removed, skipped = prune_versions(store_dir, keep=1)
    # A directory that is no version name is not listed by the model store at all (it reports
    # it as skipped); one that cannot be deleted is skipped by the prune. Neither stops it.
    assert removed == ["v0", "v1"] and [s.split(":")[0] for s in skipped] == ([] if bad == "bad name!" else [bad])
    assert bad in artifacts.skipped_versions(store_dir)
    assert (store_dir / bad).is_dir() and artifacts.read_active(store_dir)["active"] == "tiny-1"


@pytest.mark.parametrize("meta", [b"\xff\xfe", b"[]"])
def test_a_job_finishes_despite_a_bad_version_directory(admin_settings, store_dir, meta):
    from service import create_app

    (store_dir / "bad name!").mkdir()
    (store_dir / "bad name!" / "model.json").write_bytes(meta)
    client = create_app({"TESTING": True, "TAGGER": replace(admin_settings, keep_versions=1)}).test_client()
    job = wait_job(client, client.post("/train", json={"rows": tiny_rows(), "activate": "never"}, headers=AUTH).get_json()["id"])
    assert job["state"] == "done", job
    assert (store_dir / "bad name!").is_dir()  # not a version: never pruned, never a crash
    assert (store_dir / job["version"]).is_dir() and (store_dir / "tiny-1").is_dir()


# --- data-directory faults at start ----------------------------------------------------
def broken_data_dir(tmp_path: Path, fault: str, monkeypatch) -> tuple[Path, str]:
    """A data directory with `fault`; (path, words the message must contain)."""
    if fault == "under-a-file":
        (tmp_path / "afile").write_text("x")
        return tmp_path / "afile" / "var", "not a directory"
    if fault == "is-a-file":
        (tmp_path / "var").write_text("x")
        return tmp_path / "var", "not a directory"
    if fault == "missing-parent":
        return tmp_path / "missing" / "var", "parent directory does not exist"
    code = errno.ENOSPC if fault == "full" else errno.EROFS

    def refuse(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("training.store.os.fsync", refuse)  # the write probe: tests run as root, chmod would not stop them
    return tmp_path / "var", "disk is full" if fault == "full" else "read-only"


FAULTS = ["under-a-file", "is-a-file", "missing-parent", "read-only", "full"]


@pytest.mark.parametrize("fault", FAULTS)
def test_serve_with_a_broken_data_dir_prints_one_line(runner, tmp_path, monkeypatch, fault):
    data_dir, words = broken_data_dir(tmp_path, fault, monkeypatch)
    monkeypatch.setenv("TAGGER_DATA_DIR", str(data_dir))
    monkeypatch.setattr("training.cli.os.execv", lambda *a: pytest.fail("serve went on to start gunicorn"))
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert str(data_dir) in line and "TAGGER_DATA_DIR" in line and words in line, line


@pytest.mark.parametrize("fault", FAULTS)
def test_create_app_serves_classify_and_admin_answers_503(settings, tmp_path, monkeypatch, fault):
    from service import create_app

    data_dir, words = broken_data_dir(tmp_path, fault, monkeypatch)
    client = create_app({"TESTING": True, "TAGGER": replace(settings, data_dir=data_dir, admin_token=TOKEN)}).test_client()
    assert client.post("/classify", json={"text": "法院公开宣判一起盗窃案"}).status_code == 200
    for method, path in [("get", "/jobs"), ("get", "/jobs/abc"), ("get", "/review"), ("get", "/feedback/export"),
                         ("post", "/feedback"), ("post", "/train"), ("delete", "/feedback/1")]:
        body = {"text": "法院宣判", "labels": []} if path == "/feedback" else {"rows": tiny_rows()} if path == "/train" else None
        response = getattr(client, method)(path, headers=AUTH, json=body)
        assert response.status_code == 503, (path, response.get_data(as_text=True))
        error = response.get_json()["error"]
        assert error["code"] == "data_dir_unavailable" and "TAGGER_DATA_DIR" in error["message"] and words in error["message"]


# --- a second serve that cannot bind keeps the first one's metrics ------------------------
def test_remove_stale_metrics_keeps_live_servers(tmp_path):
    from service.gunicorn_conf import remove_stale_metrics

    current, live, dead, other = (tmp_path / f"run-{os.getpid()}", tmp_path / f"run-{os.getppid()}",
                                  tmp_path / f"run-{dead_pid()}", tmp_path / "unrelated")
    for path in (current, live, dead, other):
        path.mkdir()
    assert remove_stale_metrics(current) == [dead]
    assert {p.name for p in tmp_path.iterdir()} == {current.name, live.name, other.name}


def start_serve(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "training.cli", "serve", "--port", str(port), "--workers", "1"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def test_a_second_serve_that_cannot_bind_keeps_the_running_servers_metrics(models_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "TAGGER_MODELS_DIR": str(models_dir), "TAGGER_DATA_DIR": str(tmp_path / "var"),
           "TAGGER_LOG_LEVEL": "warning"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    first = start_serve(port, env)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_ready(url, 60, first):
            pytest.fail("the first server did not start")
        for _ in range(3):
            assert requests.post(url + "/classify", json={"text": "法院宣判"}, timeout=10).ok

        def classified() -> str:
            lines = requests.get(url + "/metrics", timeout=10).text.splitlines()
            return next(l for l in lines if l.startswith("tagger_texts_classified_total"))

        before = classified()
        assert before.endswith(" 3.0")
        second = start_serve(port, env)
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0 and b"connection in use" in err.lower(), err[-500:]
        assert classified() == before
        assert (tmp_path / "var" / "prometheus" / f"run-{first.pid}").is_dir()
    finally:
        os.killpg(first.pid, 15)
        first.wait(timeout=30)


# --- a really read-only data directory (file modes, not a monkeypatch) ---------------------
READ_ONLY_CHECK = """
import json, sys
from pathlib import Path
from training.config import Settings
from service import create_app
client = create_app({"TESTING": True, "TAGGER": Settings(models_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]), admin_token="t")}).test_client()
auth = {"Authorization": "Bearer t"}
out = {path: client.get(path, headers=auth).status_code for path in ["/jobs", "/review", "/feedback/export", "/jobs/" + sys.argv[3]]}
out["export"] = client.get("/feedback/export", headers=auth).get_data(as_text=True)
out["post"] = client.post("/feedback", json={"text": "检察院起诉。", "labels": []}, headers=auth).get_json()
out["classify"] = client.post("/classify", json={"text": "法院宣判"}).status_code
print(json.dumps(out, ensure_ascii=False))
"""


def unprivileged() -> list[str]:
    """A command prefix under which file modes bind (root ignores them unless it drops capabilities)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root without setpriv: cannot make a directory read-only for this process")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def test_a_read_only_data_dir_serves_reads_and_refuses_writes(models_dir, tmp_path):
    data_dir = tmp_path / "var"
    store = Store(data_dir / "tagger.sqlite3")
    store.add_feedback("法院宣判一起盗窃案。", ["courts"])
    job_id = store.create_job({})
    store.update_job(job_id, state="done")
    files = list(data_dir.iterdir())
    for path in files:
        path.chmod(0o444)
    data_dir.chmod(0o555)
    try:
        result = subprocess.run([*unprivileged(), sys.executable, "-c", READ_ONLY_CHECK, str(models_dir), str(data_dir), job_id],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        serve = subprocess.run([*unprivileged(), sys.executable, "-m", "training.cli", "serve"], cwd=REPO_ROOT, capture_output=True,
                               text=True, timeout=120, env={**os.environ, "TAGGER_DATA_DIR": str(data_dir), "TAGGER_MODELS_DIR": str(models_dir)})
    finally:
        data_dir.chmod(0o755)
        for path in files:
            path.chmod(0o644)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert [out[p] for p in ["/jobs", "/review", "/feedback/export", f"/jobs/{job_id}"]] == [200] * 4
    assert "法院宣判一起盗窃案" in out["export"] and out["classify"] == 200
    assert out["post"]["error"]["code"] == "data_dir_unavailable" and "read-only" in out["post"]["error"]["message"]
    assert serve.returncode == 1 and "Traceback" not in serve.stderr
    assert serve.stderr.strip().splitlines() == [f"Error: data directory {data_dir} (TAGGER_DATA_DIR): is read-only for this service; " \
        "make it writable by the service user or point TAGGER_DATA_DIR at a writable directory"]


@pytest.mark.parametrize("exc,words", [
    (OSError(errno.EROFS, "Read-only file system", "/srv/full/var/x"), "is read-only"),  # "full" in the path is no full disk
    (OSError(errno.ENOSPC, "No space left on device", "/srv/readonly/var/x"), "the disk is full"),
    (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "is read-only"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/srv/f/var"), "is not a directory"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/srv/none/var"), "parent directory does not exist"),
])
def test_data_dir_errors_say_what_is_wrong_and_the_fix(exc, words):
    from training.store import data_dir_error

    message = str(data_dir_error(Path("/srv/full/var"), exc))
    assert message.startswith("data directory /srv/full/var (TAGGER_DATA_DIR): ") and words in message
    assert "TAGGER_DATA_DIR at" in message or "make it writable" in message or "create /srv/full" in message
