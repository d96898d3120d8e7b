"""Training time on labels/corpus.csv and cold start (fresh process → first answer), median of runs.

    .venv/bin/python -m bench.startup [--runs 5] [--no-train]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from training import artifacts
from training.config import REPO_ROOT, get_settings

CLI = str(Path(sys.executable).parent / "legal-tagger")


def timed(cmd: list[str], env: dict | None = None, stdin: bytes | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO_ROOT)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-train", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    print(f"{os.cpu_count()} CPUs; corpus {settings.corpus_path}")
    if not args.no_train:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "TAGGER_MODELS_DIR": tmp}
            fit = timed([CLI, "train", str(settings.corpus_path), "--no-activate"], env)
            full = timed([CLI, "train", str(settings.corpus_path), "--cv", "--no-activate"], env)
        print(f"train (fit + per-label threshold CV): {fit:.1f} s; with 5-fold whole-pipeline CV report: {full:.1f} s")
    version = artifacts.active_version(settings.models_dir)
    meta = artifacts.read_meta(settings.models_dir, version)
    article = "某县人民检察院对涉嫌诈骗的李某依法批准逮捕。".encode()
    cold, bare, sklearn_only = [], [], []
    for _ in range(args.runs):  # interleaved: the machine is shared and its speed drifts
        cold.append(timed([CLI, "classify", "-"], stdin=article))
        bare.append(timed([sys.executable, "-c", "import sys; sys.exit(0)"]))
        # Unpickling the pipeline needs scikit-learn (which imports scipy.stats): the floor under our part.
        sklearn_only.append(timed([sys.executable, "-c", "import sklearn.base"]))
    print(f"model {version}: {meta['file']['bytes'] / 1e6:.1f} MB on disk")
    print(f"cold start `legal-tagger classify -` (process start, load, verify, classify): median {statistics.median(cold):.2f} s "
          f"(min {min(cold):.2f}, max {max(cold):.2f}, {args.runs} runs); bare Python start {statistics.median(bare):.3f} s; "
          f"`import sklearn.base` alone {statistics.median(sklearn_only):.2f} s")


if __name__ == "__main__":
    main()
