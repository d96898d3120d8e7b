"""fastText side of the benchmarks; runs inside build/fasttext-venv, never in the project venv.

    build/fasttext-venv/bin/python bench/fasttext_worker.py train   JOB_DIR
    build/fasttext-venv/bin/python bench/fasttext_worker.py predict JOB_DIR
    build/fasttext-venv/bin/python bench/fasttext_worker.py speed   JOB_DIR

fastText's Python package is unreliable with numpy 2 (the 0.9.3 source build intermittently
stops with "Encountered NaN" and its predict breaks on numpy 2), so the benches keep it in its own
virtualenv with the prebuilt `fasttext-wheel==0.9.2` and `numpy<2` and talk to it through files.
This script imports nothing from the project (whose dependencies need numpy 2).

Files in JOB_DIR (UTF-8 JSONL, one object per line, texts already word-segmented and joined by
spaces, no newlines):
  train.jsonl      {"text": ..., "labels": [...]}            in   (train)
  config.json      {"labels": [...], "autotune_seconds": 60, "valid_fraction": 0.2, "seed": 0,
                    "threads": 2, "max_memory_gib": 4}        in   (train, predict)
  model.bin                                                   out  (train), in (predict, speed)
  train_info.json  tuned hyper-parameters and timings         out  (train)
  test-NAME.jsonl  {"text": ...}                              in   (predict, speed)
  proba-NAME.jsonl {"proba": {label: p, ...}}                 out  (predict)
  speed.json       {"NAME": {"articles_per_s": [...runs]}}    out  (speed; config.json "runs")
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).name == "bench":
    sys.path.pop(0)  # run as a script: keep bench/http.py from shadowing the stdlib's http

import json
import random
import time

import fasttext

NONE = "__none__"  # pseudo label for articles without tags: fastText skips examples with no label


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_ft(path: Path, items: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for item in items:
            labels = item["labels"] or [NONE]
            out.write(" ".join(f"__label__{label}" for label in labels) + " " + item["text"].replace("\n", " ") + "\n")


# Hyper-parameters autotune chooses; the final model is refit with them on all training rows.
TUNED = ("lr", "dim", "ws", "epoch", "minCount", "minCountLabel", "minn", "maxn", "neg", "wordNgrams", "bucket", "lrUpdateRate", "t")


def limit_memory(config: dict) -> None:
    """Cap this process's address space: autotune samples dim up to 1000 and bucket up to 10M
    (tens of GB); with the cap such a trial gets std::bad_alloc, which autotune skips."""
    import resource

    cap = int(float(config.get("max_memory_gib", 4)) * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def train(job: Path) -> None:
    config = json.loads((job / "config.json").read_text(encoding="utf-8"))
    limit_memory(config)
    items = _read_jsonl(job / "train.jsonl")
    rng = random.Random(config.get("seed", 0))
    order = list(range(len(items)))
    rng.shuffle(order)
    n_valid = max(1, int(len(items) * config.get("valid_fraction", 0.2)))
    valid = [items[i] for i in order[:n_valid]]
    fit = [items[i] for i in order[n_valid:]]
    _write_ft(job / "ft_fit.txt", fit)
    _write_ft(job / "ft_valid.txt", valid)
    _write_ft(job / "ft_all.txt", items)
    threads = int(config.get("threads", 2))
    seconds = int(config.get("autotune_seconds", 60))
    started = time.perf_counter()
    if seconds > 0:
        tuned = fasttext.train_supervised(
            input=str(job / "ft_fit.txt"), loss="ova", thread=threads, verbose=0,
            autotuneValidationFile=str(job / "ft_valid.txt"), autotuneDuration=seconds,
        )
        args = tuned.f.getArgs()
        params = {name: getattr(args, name) for name in TUNED}
        tuned.save_model(str(job / "tuned.bin"))
        del tuned, args  # free its matrices before the refit (the memory cap counts both)
    else:  # fixed, commonly used settings (no tuning)
        params = {"lr": 0.5, "dim": 100, "epoch": 25, "wordNgrams": 2, "minCount": 1, "minn": 0, "maxn": 0, "bucket": 2000000}
    tune_seconds = time.perf_counter() - started
    started = time.perf_counter()
    refit = "all training rows"
    try:
        model = fasttext.train_supervised(input=str(job / "ft_all.txt"), loss="ova", thread=threads, verbose=0, seed=config.get("seed", 0), **params)
    except MemoryError:  # the refit on all rows needs a little more than the tuned trial did
        if seconds <= 0:
            raise
        model, refit = fasttext.load_model(str(job / "tuned.bin")), "the autotune model (80% of the rows): the refit on all rows exceeded the memory cap"
    fit_seconds = time.perf_counter() - started
    model.save_model(str(job / "model.bin"))
    info = {"params": {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in params.items()},
            "autotune_seconds": round(tune_seconds, 1), "refit_seconds": round(fit_seconds, 2), "final_model": refit,
            "rows": len(items), "valid_rows": n_valid, "fasttext": getattr(fasttext, "__version__", "0.9.2")}
    (job / "train_info.json").write_text(json.dumps(info), encoding="utf-8")


def _proba(model, texts: list[str], labels: list[str]) -> list[dict]:
    out = []
    for text in texts:
        names, probs = model.predict(text.replace("\n", " "), k=-1, threshold=0.0)
        got = {name[len("__label__"):]: float(p) for name, p in zip(names, probs)}
        out.append({label: min(1.0, max(0.0, got.get(label, 0.0))) for label in labels})
    return out


def predict(job: Path) -> None:
    config = json.loads((job / "config.json").read_text(encoding="utf-8"))
    limit_memory(config)
    model = fasttext.load_model(str(job / "model.bin"))
    for path in sorted(job.glob("test-*.jsonl")):
        name = path.stem[len("test-"):]
        texts = [item["text"] for item in _read_jsonl(path)]
        rows = _proba(model, texts, config["labels"])
        (job / f"proba-{name}.jsonl").write_text("".join(json.dumps({"proba": r}) + "\n" for r in rows), encoding="utf-8")


def speed(job: Path) -> None:
    """Articles/s of predict on each test file, one text per call (as a service would), per run."""
    config = json.loads((job / "config.json").read_text(encoding="utf-8"))
    model = fasttext.load_model(str(job / "model.bin"))
    out = {}
    for path in sorted(job.glob("test-*.jsonl")):
        name = path.stem[len("test-"):]
        texts = [item["text"].replace("\n", " ") for item in _read_jsonl(path)]
        model.predict(texts[0], k=-1, threshold=0.0)
        runs = []
        for _ in range(int(config.get("runs", 5))):
            done, started = 0, time.perf_counter()
            while done == 0 or time.perf_counter() - started < 0.5:  # whole passes, at least 0.5 s per run
                for text in texts:
                    model.predict(text, k=-1, threshold=0.0)
                done += len(texts)
            runs.append(done / (time.perf_counter() - started))
        out[name] = {"articles_per_s": runs, "n": len(texts)}
    (job / "speed.json").write_text(json.dumps(out), encoding="utf-8")


if __name__ == "__main__":
    command, job_dir = sys.argv[1], Path(sys.argv[2])
    {"train": train, "predict": predict, "speed": speed}[command](job_dir)
