"""Multi-core scaling: batch classification of ~2,000 articles split across P worker processes.

    .venv/bin/python -m bench.scaling [--n 2000] [--runs 5] [--max-workers N]

P runs over 1, 2, 4, 8, 16, capped at os.cpu_count() (and --max-workers). Each worker process
(multiprocessing, spawn) loads the active model once, warms up, then waits at a barrier; a run
starts when every worker of that P is ready and ends when the last one has classified its
contiguous share of the articles (batches of 100). Worker groups for every P stay alive for the
whole bench and take turns run by run, so drifting machine load hits every P alike. BLAS/OpenMP
threads are pinned to 1 per worker. Articles: labels/corpus.csv, repeated to --n.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time


def _worker(models_dir: str, version: str, shard: list[str], barrier, done, runs: int) -> None:
    os.environ["TAGGER_MODELS_DIR"] = models_dir
    from training import artifacts
    from training.tagger import Tagger

    pipe, meta = artifacts.load_model(models_dir, version)
    tagger = Tagger(pipe, meta)
    tagger.classify(shard[:20])  # warm-up: tokenizer dictionary
    for _ in range(runs):
        barrier.wait()
        for i in range(0, len(shard), 100):
            tagger.classify(shard[i:i + 100])
        done.put(os.getpid())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-workers", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=300, help="seconds any single wait may take")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

    from bench.throughput import corpus_texts, ensure_model, median, publish

    started_all = time.perf_counter()
    models_dir, version, model_note = ensure_model()
    base = corpus_texts()
    texts = (base * (args.n // len(base) + 1))[: args.n]
    cpus = os.cpu_count() or 1
    counts = [p for p in (1, 2, 4, 8, 16) if p <= min(cpus, args.max_workers)]

    ctx = mp.get_context("spawn")
    groups = {}
    try:
        for p in counts:
            barrier = ctx.Barrier(p + 1, timeout=args.timeout)
            done = ctx.Queue()
            size = -(-len(texts) // p)
            procs = [ctx.Process(target=_worker, args=(str(models_dir), version, texts[i * size:(i + 1) * size], barrier, done, args.runs), daemon=True)
                     for i in range(p)]
            for proc in procs:
                proc.start()
            groups[p] = (barrier, done, procs)
        rates: dict[int, list[float]] = {p: [] for p in counts}
        for _ in range(args.runs):
            for p, (barrier, done, procs) in groups.items():
                barrier.wait()  # returns once all p workers are loaded and waiting
                t0 = time.perf_counter()
                for _ in procs:
                    done.get(timeout=args.timeout)
                rates[p].append(len(texts) / (time.perf_counter() - t0))
        for _, _, procs in groups.values():
            for proc in procs:
                proc.join(timeout=args.timeout)
    finally:
        for _, _, procs in groups.values():
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()

    one = median(rates[1])
    skipped = [p for p in (1, 2, 4, 8, 16) if p not in counts]
    body = [
        f"Model: {model_note}. Articles: labels/corpus.csv repeated to {len(texts):,} ({sum(map(len, texts)):,} characters); "
        f"each worker classifies a contiguous share in batches of 100. Median of {args.runs} runs per P, the P values interleaved run by run.",
        "",
        f"**This machine has {cpus} CPU cores (`os.cpu_count()`), so P is capped at {max(counts)}"
        + (f"; P = {', '.join(map(str, skipped))} were not run." if skipped else ".")
        + " No 16-core machine was available for this task: the figures below are what this machine shows, not a 16-core result.**",
        "",
        "| worker processes P | articles/s, median [min–max] | speedup vs P=1 | parallel efficiency |",
        "|---|---|---|---|",
    ]
    for p in counts:
        r = median(rates[p])
        body.append(f"| {p} | {r:.0f} [{min(rates[p]):.0f}–{max(rates[p]):.0f}] | {r / one:.2f}× | {100 * r / one / p:.0f}% |")
    body += ["", "Timing starts when all P workers have loaded the model and ends when the last finishes (model loading excluded); "
             "BLAS/OpenMP threads = 1 per worker; multiprocessing start method: spawn."]
    publish("scaling", "Multi-core scaling (`bench.scaling`)", body, started=started_all)


if __name__ == "__main__":
    main()
