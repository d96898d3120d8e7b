"""Shared fixtures: a tiny model trained once per session, the app, a client, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from training import artifacts, pipeline
from training.config import REPO_ROOT, Settings
from training.data import read_csv
from training.taxonomy import label_ids

DATA = Path(__file__).parent / "data"
SHARED = REPO_ROOT.parent / "shared"
TINY_PARAMS = {"cv": 3, "word_min_df": 1, "char_min_df": 1}


@pytest.fixture(scope="session")
def labels() -> list[str]:
    return label_ids(Settings().taxonomy_path)


@pytest.fixture(scope="session")
def tiny_dataset(labels):
    return read_csv(DATA / "tiny.csv", labels)


@pytest.fixture(scope="session")
def tiny_model(tiny_dataset, labels):
    """(fitted pipeline, fit info) of the tiny corpus."""
    return pipeline.fit(tiny_dataset, labels, TINY_PARAMS)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, tiny_model, tiny_dataset, labels) -> Path:
    """A models directory holding one active tiny model (never the repo's models/)."""
    root = tmp_path_factory.mktemp("models")
    pipe, info = tiny_model
    meta = {"labels": labels, "thresholds": info["thresholds"], "params": info["params"], "metrics": {},
            "training": {"rows": len(tiny_dataset), "sha256": tiny_dataset.sha256}}
    path = artifacts.save_model(pipe, meta, root, "tiny-1")
    artifacts.set_active(root, path.name)
    return root


@pytest.fixture()
def settings(models_dir, tmp_path) -> Settings:
    return Settings(models_dir=models_dir, data_dir=tmp_path / "var", max_batch=8, max_text_chars=5000, max_body_bytes=64 * 1024)


@pytest.fixture()
def app(settings):
    from service import create_app

    return create_app({"TESTING": True, "TAGGER": settings})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(models_dir, monkeypatch):
    """A click runner whose CLI sees the tiny models directory."""
    monkeypatch.setenv("TAGGER_MODELS_DIR", str(models_dir))
    return CliRunner()


def shared_or_skip(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: ../shared (third-party gold data) is not beside this checkout")
    return path
