"""End-to-end speed and footprint of the active model (CLI, in-process, cold start, memory).

    .venv/bin/python -m bench.throughput [--runs 5] [--n 1000]

Measures, side by side in one run (medians of --runs):
  * `legal-tagger classify --jsonl` on N corpus articles (fresh process each run: start, load, classify),
  * in-process `training.tagger.Tagger.classify`, one article per call vs batches of 100,
  * cold start: a fresh `legal-tagger classify -` with one short text,
  * model file size and peak RSS (ru_maxrss) of a process that loads the model and classifies N articles,
  * fastText predict on the same texts, if build/fasttext-venv exists (made by `python -m bench.accuracy`).

Without an active model in TAGGER_MODELS_DIR (models/ of a clean checkout is empty), the bench
first trains one from labels/corpus.csv into build/bench-models/ and says so.

Also home of the small helpers every bench uses: machine description, the markdown writer and
`ensure_model`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from training.config import REPO_ROOT, get_settings

BIN = Path(sys.executable).parent
CLI = str(BIN / "legal-tagger")
RESULTS_DIR = REPO_ROOT / "docs" / "bench_results"
PLOTS_DIR = REPO_ROOT / "docs" / "plots"
BENCH_MODELS = REPO_ROOT / "build" / "bench-models"
SHARED = REPO_ROOT.parent / "shared"
LOAD_AT_IMPORT = os.getloadavg()  # the machine is shared: the result header shows the load around the run


# ----------------------------------------------------------------------------- shared helpers

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nproc() -> int:
    # GNU nproc obeys OMP_NUM_THREADS / OMP_THREAD_LIMIT, which bench.scaling sets to 1 for its workers.
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT")}
    try:
        return int(subprocess.run(["nproc"], capture_output=True, text=True, check=True, env=env).stdout.strip())
    except (OSError, ValueError, subprocess.CalledProcessError):
        return len(os.sched_getaffinity(0))


def mem_total_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def machine_lines(command: str) -> list[str]:
    """The standard header of every bench result: command, machine, date, software."""
    import numpy
    import scipy
    import sklearn

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"- command: `{command}`",
        f"- machine: `nproc` = {nproc()}, CPU: {cpu_model()}, memory {mem_total_gib():.0f} GiB, {platform.system()} {platform.release()}",
        f"- date: {now}",
        "- load average (1/5/15 min) at bench start: " + " / ".join(f"{x:.2f}" for x in LOAD_AT_IMPORT)
        + "; at the end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (the machine is shared; other jobs may run)",
        f"- software: Python {platform.python_version()}, scikit-learn {sklearn.__version__}, numpy {numpy.__version__}, scipy {scipy.__version__}",
        f"- code and data: {source_state()}",
    ]


def source_state() -> str:
    """Commit, whether the working tree differs from it, and the corpus checksum (others edit both)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, cwd=REPO_ROOT).stdout.strip()
        commit = f"commit {head}" + (f" + uncommitted changes in {len(dirty.splitlines())} tracked file(s)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        commit = "commit unknown (no git)"
    corpus = get_settings().corpus_path
    digest = _sha256(corpus)[:12] if corpus.exists() else "missing"
    return f"{commit}; labels/corpus.csv sha256 {digest}…"


def publish(name: str, title: str, body: list[str], command: str | None = None, started: float | None = None) -> Path:
    """Print the markdown section and write it to docs/bench_results/NAME.md."""
    command = command or f".venv/bin/python -m bench.{name}"
    lines = [f"## {title}", "", *machine_lines(command)]
    if started is not None:
        lines.append(f"- bench run time: {time.perf_counter() - started:.0f} s")
    lines += ["", *body]
    text = "\n".join(lines).rstrip() + "\n"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    print(text)
    print(f"(written to {path.relative_to(REPO_ROOT)})", file=sys.stderr)
    return path


def median(values) -> float:
    return statistics.median(list(values))


def spread(values, fmt: str = "{:.1f}") -> str:
    values = list(values)
    return f"{fmt.format(median(values))} (min {fmt.format(min(values))}, max {fmt.format(max(values))}, {len(values)} runs)"


def corpus_texts() -> list[str]:
    """Model inputs of labels/corpus.csv (title + body), in file order."""
    from training.data import read_csv
    from training.taxonomy import label_ids

    settings = get_settings()
    return read_csv(settings.corpus_path, label_ids(settings.taxonomy_path)).texts


def ensure_model() -> tuple[Path, str, str]:
    """(models_dir, version, note): the active model, or one trained here into build/bench-models/.

    Sets TAGGER_MODELS_DIR in os.environ so that child processes use the same model.
    """
    from training import artifacts
    from training.errors import TaggerError

    settings = get_settings()
    try:
        version = artifacts.active_version(settings.models_dir)
        artifacts.verify(settings.models_dir, version)
        os.environ["TAGGER_MODELS_DIR"] = str(settings.models_dir)
        return settings.models_dir, version, f"active model `{version}` in {settings.models_dir}"
    except TaggerError as exc:
        reason = str(exc).split(";")[0]
    models_dir = BENCH_MODELS
    try:
        version = artifacts.active_version(models_dir)
        artifacts.verify(models_dir, version)
        meta = artifacts.read_meta(models_dir, version)
        if meta.get("training", {}).get("sha256") != _sha256(settings.corpus_path):
            raise TaggerError("stale")
    except TaggerError:
        print(f"no usable model ({reason}); training one from {settings.corpus_path} into {models_dir} …", file=sys.stderr)
        subprocess.run([CLI, "train", str(settings.corpus_path), "--no-cv", "--out", str(models_dir)],
                       check=True, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, timeout=900)
        version = artifacts.active_version(models_dir)
        artifacts.prune(models_dir, keep=1)  # the active version and its predecessor stay
    os.environ["TAGGER_MODELS_DIR"] = str(models_dir)
    note = (f"model `{version}` trained by the bench from labels/corpus.csv into build/bench-models/ "
            f"(`legal-tagger train --no-cv`, default parameters), because {reason}")
    return models_dir, version, note


def _sha256(path: Path) -> str:
    from training.artifacts import sha256_file

    return sha256_file(path)


# Peak RSS of a child: Linux folds the RSS high-water mark of the address space a child execs
# from into its ru_maxrss, and subprocess vforks from this (large) process, so a child started
# directly would report at least our own peak. A small launcher process starts the measured
# command instead and reads getrusage(RUSAGE_CHILDREN).ru_maxrss after waiting for it; what it
# reports includes at most the launcher's own small footprint (the bare-Python figure).
LAUNCHER = """
import json, resource, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
code = subprocess.call(cmd)
wall = time.perf_counter() - started
json.dump({"code": code, "wall": wall, "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, open(out, "w"))
sys.exit(code)
"""


def run_rusage(cmd: list[str], stdin: bytes | None = None, env: dict | None = None, timeout: float = 600) -> tuple[float, int, bytes]:
    """Run a child; return (its wall seconds, its peak RSS in KiB (ru_maxrss), its stdout)."""
    with tempfile.TemporaryDirectory(prefix="rusage-") as tmp:
        report = Path(tmp) / "rusage.json"
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, str(report), *cmd], input=stdin, capture_output=True,
                              env=env, cwd=REPO_ROOT, timeout=timeout)
        if proc.returncode != 0 or not report.exists():
            raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
        info = json.loads(report.read_text())
        return info["wall"], info["maxrss_kib"], proc.stdout


def timed_run(cmd: list[str], stdin: bytes | None = None, env: dict | None = None, timeout: float = 600) -> tuple[float, bytes]:
    """Wall seconds of a child started directly (process start included), and its stdout."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, cwd=REPO_ROOT, timeout=timeout)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
    return wall, proc.stdout


# ----------------------------------------------------------------------------- the bench

RSS_CHILD = """
import sys, json
from training import artifacts
from training.tagger import Tagger
models_dir, version, path, mode = sys.argv[1:5]
pipe, meta = artifacts.load_model(models_dir, version)
tagger = Tagger(pipe, meta)
if mode == "classify":
    texts = [json.loads(l)["text"] for l in open(path, encoding="utf-8")]
    for i in range(0, len(texts), 100):
        tagger.classify(texts[i:i + 100])
"""


def fasttext_speed(texts: list[str], runs: int) -> tuple[list[str], dict | None]:
    """fastText predict articles/s on the same texts, in build/fasttext-venv; None if unavailable."""
    from bench.accuracy import FT_MODEL, FT_PYTHON, ft_tokenize, run_fasttext

    if not FT_PYTHON.exists():
        return ["fastText: skipped, build/fasttext-venv does not exist (run `python -m bench.accuracy` first)."], None
    notes = []
    with tempfile.TemporaryDirectory(prefix="ftspeed-") as tmp:
        job = Path(tmp)
        if FT_MODEL.exists():
            (job / "model.bin").symlink_to(FT_MODEL)
            notes.append(f"fastText model: {FT_MODEL.relative_to(REPO_ROOT)} (autotuned on the corpus by bench.accuracy), "
                         f"{FT_MODEL.stat().st_size / 1e6:.0f} MB")
        else:
            from training.data import read_csv
            from training.taxonomy import label_ids

            settings = get_settings()
            labels = label_ids(settings.taxonomy_path)
            data = read_csv(settings.corpus_path, labels)
            rows = [{"text": t, "labels": sorted(l)} for t, l in zip(ft_tokenize(data.texts), data.labels)]
            (job / "train.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
            (job / "config.json").write_text(json.dumps({"labels": labels, "autotune_seconds": 0}))
            run_fasttext("train", job, timeout=600)
            notes.append(f"fastText model: trained here with fixed parameters (no autotune; no {FT_MODEL.name} from bench.accuracy), "
                         f"{(job / 'model.bin').stat().st_size / 1e6:.0f} MB")
        started = time.perf_counter()
        tokenized = ft_tokenize(texts)
        tok_seconds = time.perf_counter() - started
        tok_runs = [tok_seconds]
        for _ in range(runs - 1):
            started = time.perf_counter()
            ft_tokenize(texts)
            tok_runs.append(time.perf_counter() - started)
        (job / "test-corpus.jsonl").write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in tokenized), encoding="utf-8")
        (job / "config.json").write_text(json.dumps({"runs": runs}))
        run_fasttext("speed", job, timeout=600)
        speed = json.loads((job / "speed.json").read_text())["corpus"]
    predict = median(speed["articles_per_s"])
    tokenize = len(texts) / median(tok_runs)
    return notes, {"predict": predict, "predict_runs": speed["articles_per_s"], "tokenize": tokenize,
                   "end_to_end": 1.0 / (1.0 / predict + 1.0 / tokenize)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions of every timing (median reported)")
    parser.add_argument("--n", type=int, default=1000, help="corpus articles to classify")
    args = parser.parse_args()
    started_all = time.perf_counter()
    runs = max(1, args.runs)

    models_dir, version, model_note = ensure_model()
    from training import artifacts
    from training.tagger import Tagger

    all_texts = corpus_texts()
    texts = all_texts[: args.n]
    n = len(texts)
    chars = sum(map(len, texts))
    meta = artifacts.read_meta(models_dir, version)
    model_bytes = sum(entry["bytes"] for entry in meta["files"].values())

    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        jsonl = Path(tmp) / "items.jsonl"
        jsonl.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
        env = {**os.environ, "TAGGER_MODELS_DIR": str(models_dir)}

        # In-process model, loaded once.
        pipe, meta = artifacts.load_model(models_dir, version)
        tagger = Tagger(pipe, meta)
        tagger.classify(texts[:100])  # warm-up: tokenizer dictionary, caches
        single, batched, cli, cold, bare = [], [], [], [], []
        short = "某县人民检察院对涉嫌诈骗的李某依法批准逮捕。".encode()
        for _ in range(runs):  # interleaved so drifting machine load hits every variant alike
            t0 = time.perf_counter()
            for text in texts:
                tagger.classify([text])
            single.append(n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for i in range(0, n, 100):
                tagger.classify(texts[i:i + 100])
            batched.append(n / (time.perf_counter() - t0))
            wall, out = timed_run([CLI, "classify", "--jsonl", str(jsonl)], env=env)
            assert out.count(b"\n") == n, "classify --jsonl did not answer every line"
            cli.append(n / wall)
            cold.append(timed_run([CLI, "classify", "-"], stdin=short, env=env)[0])
            bare.append(timed_run([sys.executable, "-c", "pass"])[0])

        rss_classify, rss_load = [], []
        for _ in range(3):
            rss_classify.append(run_rusage([sys.executable, "-c", RSS_CHILD, str(models_dir), version, str(jsonl), "classify"], env=env)[1])
            rss_load.append(run_rusage([sys.executable, "-c", RSS_CHILD, str(models_dir), version, str(jsonl), "load"], env=env)[1])
        rss_bare = run_rusage([sys.executable, "-c", "pass"])[1]

    ft_notes, ft = fasttext_speed(texts, runs)

    s_single, s_batch, s_cli = median(single), median(batched), median(cli)
    body = [
        f"Model: {model_note}; model files {model_bytes / 1e6:.1f} MB (format 2: {", ".join(sorted(meta["files"]))}).",
        f"Texts: the first {n} articles of labels/corpus.csv ({chars:,} characters, mean {chars / n:.0f} per article). "
        f"Every timing is the median of {runs} runs, the variants interleaved run by run.",
        "",
        "| path | articles/s | ratio to in-process batch of 1 |",
        "|---|---|---|",
        f"| `legal-tagger classify --jsonl` (fresh process per run: start + load + classify {n}) | {s_cli:.0f} | {s_cli / s_single:.2f} |",
        f"| in-process `Tagger.classify`, 1 article per call | {s_single:.0f} | 1.00 |",
        f"| in-process `Tagger.classify`, batches of 100 | {s_batch:.0f} | {s_batch / s_single:.2f} |",
    ]
    if ft:
        body.append(f"| fastText predict only (pre-tokenized, 1 article per call) | {ft['predict']:.0f} | {ft['predict'] / s_single:.2f} |")
        body.append(f"| fastText incl. normalize + jieba tokenization (rjieba) | {ft['end_to_end']:.0f} | {ft['end_to_end'] / s_single:.2f} |")
    body += [
        "",
        f"- in-process, 1 per call: {spread(single, '{:.0f}')} articles/s; batches of 100: {spread(batched, '{:.0f}')} articles/s "
        f"({s_batch * chars / n / 1e6:.2f} M characters/s)",
        f"- CLI `classify --jsonl` on {n} articles: {spread([n / x for x in cli], '{:.2f}')} s wall",
        f"- cold start, fresh `legal-tagger classify -` with one short text to its answer: {spread(cold, '{:.2f}')} s; "
        f"bare `python -c pass`: {median(bare):.3f} s",
        f"- model file size: {model_bytes / 1e6:.1f} MB",
        f"- peak RSS (ru_maxrss) of a process that loads the model and classifies {n} articles in batches of 100: "
        f"{median(rss_classify) / 1024:.0f} MiB (median of 3; min {min(rss_classify) / 1024:.0f}, max {max(rss_classify) / 1024:.0f}); "
        f"loading the model only: {median(rss_load) / 1024:.0f} MiB; bare Python: {rss_bare / 1024:.0f} MiB",
    ]
    if ft:
        body.append(f"- fastText predict: {spread(ft['predict_runs'], '{:.0f}')} articles/s; "
                    f"normalize + tokenization alone: {ft['tokenize']:.0f} articles/s")
    body += [f"- {note}" for note in ft_notes]
    publish("throughput", "Throughput and footprint (`bench.throughput`)", body, started=started_all)


if __name__ == "__main__":
    main()
