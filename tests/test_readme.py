"""The README's retraining walk-through runs as written against a live server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading

import pytest
from werkzeug.serving import make_server

from training.config import REPO_ROOT, Settings

from conftest import DATA

TOKEN = "readme-token"


def readme_block(heading: str, index: int) -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)[index]


@pytest.fixture()
def live(models_dir, tmp_path):
    from service import create_app

    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    shutil.copy(DATA / "tiny.csv", root / "tiny-1" / "training.csv")  # the active model's corpus
    settings = Settings(models_dir=root, data_dir=tmp_path / "var", admin_token=TOKEN, model_reload_seconds=0.0)
    server = make_server("127.0.0.1", 0, create_app({"TAGGER": settings}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", root
    server.shutdown()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_retrain_walkthrough_runs_as_written(live, tmp_path):
    base, root = live
    workdir = tmp_path / "user"
    workdir.mkdir()
    rows = (DATA / "tiny.csv").read_text(encoding="utf-8").splitlines()
    # The user's CSV: the tiny corpus reworded, so the upload is new data.
    (workdir / "my.csv").write_text("\n".join([rows[0]] + [r.replace(",", ",据悉", 1) for r in rows[1:]]) + "\n", encoding="utf-8")
    script = readme_block("Retrain with your own data", 1)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "BASE": base, "TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr + result.stdout
    assert '"state": "done"' in result.stdout
    # The walk-through activated the new version and then rolled back to the one before it.
    assert '"active": "tiny-1"' in result.stdout.replace("\n", "").replace("  ", " ") or '"active":"tiny-1"' in result.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("shell", [["bash", "-euo", "pipefail", "-c"], ["bash", "-c"]], ids=["script", "pasted"])
def test_retrain_walkthrough_stops_with_the_servers_message_on_a_wrong_token(live, tmp_path, shell):
    """Run as a script it stops at step 1; pasted into a shell it runs on without a traceback or a loop."""
    base, root = live
    (tmp_path / "my.csv").write_text((DATA / "tiny.csv").read_text(encoding="utf-8"), encoding="utf-8")
    script = readme_block("Retrain with your own data", 1)
    before = (root / "active.json").read_text()
    result = subprocess.run([*shell, script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "BASE": base, "TOKEN": "wrong-token"})
    assert "server: " in result.stderr and "token" in result.stderr.lower(), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if shell[1] == "-euo":
        assert result.returncode != 0 and "state" not in result.stdout
    assert (root / "active.json").read_text() == before  # nothing changed without the right token
