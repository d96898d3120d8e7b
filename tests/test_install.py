"""Installs: a real wheel tags an article from anywhere; the checkout uses its own data; the systemd unit parses."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from training import artifacts
from training.config import REPO_ROOT, Settings, in_checkout

from conftest import DATA

# What setup.py and pyproject.toml need to build the wheel; copied so the build never writes into the checkout.
BUILD_INPUTS = ["pyproject.toml", "setup.py", "README.md", "training", "service", "labels", "models"]
ARTICLE = "河阳区人民法院公开开庭审理并当庭宣判一起合同诈骗案，被告人陈某被依法判处有期徒刑十年，并处罚金二十万元。"
UNIT = REPO_ROOT / "docs" / "deploy" / "legal-tagger.service"


def _run(args: list, env: dict, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], input=stdin, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(env, cwd) for a fresh venv holding the non-editable wheel, its dependencies borrowed from this one."""
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", ".tmp-*"))
        else:
            shutil.copy2(REPO_ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    # No build isolation: offline and fast, with the setuptools the test extra installs.
    built = _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", root / "dist", src], dict(os.environ), root)
    assert built.returncode == 0, built.stderr
    wheel = next((root / "dist").glob("legal_news_tagger-*.whl"))
    target = root / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    python = target / "bin" / "python"
    done = _run([*pip, "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel], dict(os.environ), root)
    assert done.returncode == 0, done.stderr
    # Dependencies: this venv's site-packages appended as plain paths. Its .pth files (our editable
    # install among them) are not processed for such paths, so only the wheel provides our packages.
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], {}, root).stdout.strip())
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_borrowed_deps.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAGGER_", "PYTHON"))}
    env.update(PATH=f"{target / 'bin'}{os.pathsep}{env.get('PATH', '')}", XDG_DATA_HOME=str(root / "xdg-data"))
    cwd = root / "elsewhere"
    cwd.mkdir()
    return env, cwd, target


def test_wheel_classifies_with_the_shipped_default_model_from_another_directory(installed):
    env, cwd, target = installed
    where = _run(["python", "-c", "import training, service; print(training.__file__); print(service.__file__)"], env, cwd)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).is_relative_to(target), f"imported from {line}, not from the installed wheel"
    result = _run(["legal-tagger", "classify"], env, cwd, stdin=ARTICLE)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert "courts" in out["labels"], out
    assert out["model"] == artifacts.read_active(REPO_ROOT / "models")["active"]
    # The page splitter's patterns ship too: a page with two articles splits into two.
    page = "县法院宣判一起盗窃案\n\n" + ARTICLE + "\n\n派出所民警抓获盗窃嫌疑人\n\n" + "某县公安局城关派出所民警在巡逻中抓获一名涉嫌盗窃电动车的嫌疑人王某，王某已被依法刑事拘留。"
    split = _run(["legal-tagger", "classify", "--split"], env, cwd, stdin=page)
    assert split.returncode == 0, split.stderr
    assert len(split.stdout.strip().splitlines()) == 2, split.stdout


def test_wheel_honours_the_env_overrides(installed, tmp_path):
    env, cwd, _ = installed
    empty = tmp_path / "no-models"
    empty.mkdir()
    result = _run(["legal-tagger", "classify"], {**env, "TAGGER_MODELS_DIR": str(empty)}, cwd, stdin=ARTICLE)
    assert result.returncode == 1
    assert str(empty) in result.stderr and "Traceback" not in result.stderr


def test_training_into_the_installed_package_says_where_to_write_instead(installed):
    env, cwd, _ = installed
    result = _run(["legal-tagger", "train", DATA / "tiny.csv"], env, cwd)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "read-only" in lines[0] and "--out" in lines[0] and "TAGGER_MODELS_DIR" in lines[0], result.stderr


def test_a_checkout_uses_its_own_labels_and_models(monkeypatch):
    for name in ("TAGGER_LABELS_DIR", "TAGGER_MODELS_DIR", "TAGGER_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert in_checkout()
    assert (settings.labels_dir, settings.models_dir, settings.data_dir) == (REPO_ROOT / "labels", REPO_ROOT / "models", REPO_ROOT / "var")
    assert settings.writable_models_dir() == REPO_ROOT / "models"


def test_the_test_environment_has_the_pinned_versions():
    """make install honours constraints.txt: every pin that applies here is installed at its version."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    lines = (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pins = [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert len(pins) > 30
    wrong, checked = [], 0
    for pin in pins:
        if pin.marker and not pin.marker.evaluate():
            continue
        try:
            found = version(pin.name)
        except PackageNotFoundError:  # a pin no dependency needs any more: harmless until `make lock`
            continue
        checked += 1
        if found not in pin.specifier:
            wrong.append(f"{pin.name} {found} (pinned {pin.specifier})")
    assert checked > 30 and not wrong, "run `make install` (`make lock` after editing dependencies): " + ", ".join(wrong)


REQUIRED_KEYS = {"Unit": ["Description"], "Service": ["ExecStart", "Restart"], "Install": ["WantedBy"]}


def test_systemd_unit_parses_and_has_the_required_keys(tmp_path):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    for section, keys in REQUIRED_KEYS.items():
        assert section in unit, f"[{section}] missing"
        for key in keys:
            assert unit[section].get(key), f"{section}.{key} missing"
    assert unit["Service"]["ExecStart"].split()[1:] == ["serve"]
    # Every TAGGER_* it sets is a real setting.
    names = {f"TAGGER_{name.upper()}" for name in Settings.__dataclass_fields__}
    set_here = [line.split("=", 2)[1] for line in UNIT.read_text().splitlines() if line.startswith("Environment=")]
    assert set_here and set(set_here) <= names, set(set_here) - names
    analyze = shutil.which("systemd-analyze")
    if analyze:
        # verify checks ExecStart exists: point it at this venv's real CLI, keep every other line as shipped.
        copy = tmp_path / UNIT.name
        copy.write_text(UNIT.read_text().replace(unit["Service"]["ExecStart"].split()[0], str(Path(sys.prefix) / "bin" / "legal-tagger")))
        result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr  # unknown keys are only warnings
