"""Training time, cold start, worker memory and in-process speed; optionally side by side with another checkout.

    .venv/bin/python -m bench.startup [--runs 5] [--no-train] [--before DIR] [--requests 10000] [--batch-runs 3]

Each measured tree runs its own code (cwd and PYTHONPATH = the tree, TAGGER_MODELS_DIR = its
models/) under this venv's Python, so `--before DIR` (e.g. `git worktree add /tmp/before HEAD~1`
or `git archive HEAD~1 | tar -x -C /tmp/before`) compares today's code with another commit in one run:
  * cold start: a fresh `python -m training.cli classify -` with one short text (process start,
    model load and verify, first answer), interleaved with the floors `python -c pass` and
    `python -c "import sklearn"`; medians of --runs;
  * peak RSS per gunicorn worker (VmHWM, one sync worker, preloaded app) after --requests POSTs of
    a 1,500-character article to /classify, and the requests/s of that sequential client;
  * in-process `Tagger.classify` over labels/corpus.csv, batches of 100 and 1 text per call (articles/s,
    best of --batch-runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from training.config import REPO_ROOT, get_settings

CLI = str(Path(sys.executable).parent / "legal-tagger")

IN_PROCESS = r"""
import csv, json, sys, time
from training import artifacts
from training.config import get_settings
from training.tagger import Tagger
settings = get_settings()
version = artifacts.active_version(settings.models_dir)
model, meta = artifacts.load_model(settings.models_dir, version)
tagger = Tagger(model, meta)
texts = [r["text"] for r in csv.DictReader(open(settings.corpus_path, encoding="utf-8"))]
tagger.classify(texts[:20])
batch, single = [], []
for _ in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    for i in range(0, len(texts), 100):
        tagger.classify(texts[i:i + 100])
    batch.append(len(texts) / (time.perf_counter() - t0))
    t0 = time.perf_counter()
    for text in texts:
        tagger.classify([text])
    single.append(len(texts) / (time.perf_counter() - t0))
print(json.dumps({"version": version, "batch": max(batch), "single": max(single), "n": len(texts)}))
"""


def tree_env(tree: Path, data_dir: Path | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "TAGGER_MODELS_DIR": str(tree / "models")}
    if data_dir is not None:
        env.update(TAGGER_DATA_DIR=str(data_dir), PROMETHEUS_MULTIPROC_DIR=str(data_dir / "prometheus"))
    return env


def timed(cmd: list[str], env: dict | None = None, stdin: bytes | None = None, cwd: Path = REPO_ROOT) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    return time.perf_counter() - t0


def worker_memory(master: int) -> dict[str, int]:
    """VmHWM (peak) and VmRSS in kB of the master's first child (the gunicorn worker)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    status = Path(f"/proc/{children[0]}/status").read_text().splitlines()
    return {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmHWM", "VmRSS"))}


def serve_and_measure(tree: Path, requests_n: int, article: str) -> dict:
    """Start gunicorn (1 sync worker) on tree's code, POST /classify requests_n times, read the worker's memory."""
    import requests

    from bench.http import free_port, wait_ready

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        (data_dir / "prometheus").mkdir()
        port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", "--config", "python:service.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
               "--workers", "1", "--log-level", "warning", "service.wsgi:app"]
        server = subprocess.Popen(cmd, cwd=tree, env=tree_env(tree, data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url)
            started = worker_memory(server.pid)
            session = requests.Session()
            t0 = time.perf_counter()
            for _ in range(requests_n):
                response = session.post(url + "/classify", json={"text": article})
                response.raise_for_status()
            rate = requests_n / (time.perf_counter() - t0)
            after = worker_memory(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    return {"start_rss_mb": started["VmRSS"] / 1024, "peak_rss_mb": after["VmHWM"] / 1024, "rss_mb": after["VmRSS"] / 1024, "rps": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--before", type=Path, help="Another checkout (with its models/) to measure side by side.")
    parser.add_argument("--requests", type=int, default=0, help="Requests per gunicorn worker for the memory figure (0: skip).")
    parser.add_argument("--batch-runs", type=int, default=0, help="Runs of the in-process speed figure (0: skip).")
    args = parser.parse_args()
    settings = get_settings()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}")
    if not args.no_train:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "TAGGER_MODELS_DIR": tmp}
            fit = timed([CLI, "train", str(settings.corpus_path), "--no-activate"], env)
            full = timed([CLI, "train", str(settings.corpus_path), "--cv", "--no-activate"], env)
        print(f"train (fit + per-label threshold CV): {fit:.1f} s; with 5-fold whole-pipeline CV report: {full:.1f} s")
    trees = {"today": REPO_ROOT}
    if args.before:
        trees["before"] = args.before.resolve()
    article = "某县人民检察院对涉嫌诈骗的李某依法批准逮捕。".encode()
    cold: dict[str, list[float]] = {name: [] for name in trees}
    bare, sklearn_only = [], []
    for _ in range(args.runs):  # interleaved: the machine is shared and its speed drifts
        for name, tree in trees.items():
            cold[name].append(timed([sys.executable, "-m", "training.cli", "classify", "-"], tree_env(tree), article, cwd=tree))
        bare.append(timed([sys.executable, "-c", "pass"]))
        sklearn_only.append(timed([sys.executable, "-c", "import sklearn"]))
    for name, tree in trees.items():
        files = sorted(p for p in (tree / "models").rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"{name}: cold start `python -m training.cli classify -` median {statistics.median(cold[name]):.2f} s "
              f"(min {min(cold[name]):.2f}, max {max(cold[name]):.2f}, {args.runs} runs); models/ {size:.1f} MB ({', '.join(p.name for p in files)})")
    print(f"floors, same runs: bare `python -c pass` {statistics.median(bare):.3f} s; `python -c \"import sklearn\"` {statistics.median(sklearn_only):.2f} s "
          f"(min {min(sklearn_only):.2f}, max {max(sklearn_only):.2f})")
    if args.requests:
        from bench.http import pick_article

        text = pick_article()
        for name, tree in trees.items():
            m = serve_and_measure(tree, args.requests, text)
            print(f"{name}: gunicorn worker after {args.requests} POST /classify ({len(text)} chars): peak RSS {m['peak_rss_mb']:.0f} MB "
                  f"(at start {m['start_rss_mb']:.0f} MB, now {m['rss_mb']:.0f} MB); sequential client {m['rps']:.0f} requests/s")
    if args.batch_runs:
        for name, tree in trees.items():
            done = subprocess.run([sys.executable, "-c", IN_PROCESS, str(args.batch_runs)], cwd=tree, env=tree_env(tree),
                                  capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{name}: in-process Tagger.classify on {r['n']} corpus articles (best of {args.batch_runs}): "
                  f"batches of 100 {r['batch']:.0f} articles/s; 1 per call {r['single']:.0f} articles/s")


if __name__ == "__main__":
    main()
