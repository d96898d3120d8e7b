"""A synthetic archive from our corpus's paragraphs, and the batch engines run over it.

    .venv/bin/python -m bench.archive make OUT.jsonl --articles 100000 [--seed 7] [--pages]
    .venv/bin/python -m bench.archive run --articles 100000 [--configs local:1,local:2,spark:1,spark:2]

`make` writes JSONL records (id, title, text, source) recombined from paragraphs of
labels/corpus.csv with a seeded generator: each article takes a corpus title and 2-6 paragraphs
drawn from the whole corpus, so lengths and vocabulary follow our writing. With --pages each
record is a page of 3-6 such articles (for `batch --split`).

`run` makes one archive and runs `legal-tagger batch` on it once per configuration, in one
session (same machine load for all): wall time, articles/s, the peak RSS of each process of the
run (driver, pool workers, Spark's JVM and Python workers, sampled from /proc every 0.2 s), and
the output size; CPU seconds of the whole process tree (user + sys). Results go to stdout as a Markdown table and JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def corpus_parts(path: Path = REPO / "labels" / "corpus.csv") -> tuple[list[str], list[str]]:
    """(titles, paragraphs) of our corpus."""
    titles, paragraphs = [], []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if (row.get("title") or "").strip():
                titles.append(row["title"].strip())
            paragraphs += [p.strip() for p in (row.get("text") or "").split("\n") if len(p.strip()) >= 10]
    return titles, paragraphs


def articles(n: int, seed: int = 7) -> list[dict]:
    """n synthetic articles, the same for the same seed."""
    rng = random.Random(seed)
    titles, paragraphs = corpus_parts()
    out = []
    for i in range(n):
        body = "\n\n".join(rng.choice(paragraphs) for _ in range(rng.randint(2, 6)))
        out.append({"id": f"a{i:07d}", "title": rng.choice(titles), "text": body, "source": "synthetic"})
    return out


def pages(n: int, seed: int = 7) -> list[dict]:
    """n synthetic pages of 3-6 articles each (headline, blank line, paragraphs)."""
    rng = random.Random(seed)
    arts = articles(n * 6, seed)
    out = []
    for i in range(n):
        chosen = [arts[rng.randrange(len(arts))] for _ in range(rng.randint(3, 6))]
        out.append({"id": f"p{i:06d}", "text": "\n\n".join(f"{a['title']}\n\n{a['text']}" for a in chosen)})
    return out


def write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def _sample(pids: set[int]) -> dict[int, tuple[str, int, float]]:
    """(name, peak RSS bytes, CPU seconds so far) of each live process."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime of this process itself
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                out[pid] = (name, int(line.split()[1]) * 1024, cpu)
    return out


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += children.get(pid, [])
    return found


def measure(argv: list[str], env: dict) -> dict:
    """Run a command, sampling the peak RSS of its whole process tree; wall time and peaks."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, tuple[str, int, float]] = {}
    while proc.poll() is None:
        seen.update(_sample(_descendants(proc.pid)))
        time.sleep(0.2)
    out, err = proc.communicate()
    seconds = time.monotonic() - start
    # Summed per process from /proc (the last 0.2 s of each is missed): rusage would miss
    # grandchildren that forkserver or Spark's Python daemon reap themselves.
    cpu = sum(c for _, _, c in seen.values())
    peaks = {pid: (name, rss) for pid, (name, rss, _) in seen.items()}
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {"seconds": seconds, "cpu_seconds": cpu, "peaks": peaks, "stdout": out}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(n: int, configs: list[str], seed: int, keep: Path | None) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    try:
        archive = write_jsonl(work / "archive" / "archive.jsonl", articles(n, seed))
        print(f"archive: {n} articles, {archive.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
        results = []
        for config in configs:
            engine, cores = config.split(":")
            out = work / f"out-{engine}-{cores}"
            argv = [str(REPO / ".venv" / "bin" / "legal-tagger"), "batch", str(archive), str(out), "--quiet", "--engine", engine]
            argv += ["--workers", cores] if engine == "local" else ["--master", f"local[{cores}]"]
            env = {**os.environ, "TAGGER_MAX_TEXT_CHARS": "100000"}
            print(f"running {config}…", file=sys.stderr)
            m = measure(argv, env)
            done = json.loads((out / "_SUCCESS").read_text())
            peaks = sorted(m["peaks"].values(), key=lambda x: -x[1])
            results.append({
                "config": config, "seconds": round(m["seconds"], 1), "articles": done["tagged"],
                "articles_per_s": round(done["tagged"] / m["seconds"], 1),
                "engine_seconds": done["seconds"], "cpu_seconds": round(m["cpu_seconds"], 1),
                "articles_per_cpu_s": round(done["tagged"] / max(m["cpu_seconds"], 1e-9), 1),
                "peak_rss_mb": [(name, round(rss / 2**20)) for name, rss in peaks if rss > 20 * 2**20],
                "output_mb": round(_size(out) / 1e6, 1),
            })
            print(json.dumps(results[-1], ensure_ascii=False), file=sys.stderr)
            shutil.rmtree(out)
        return results
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    make = sub.add_parser("make", help="write a synthetic archive as JSONL")
    make.add_argument("out", type=Path)
    make.add_argument("--articles", type=int, default=100_000)
    make.add_argument("--seed", type=int, default=7)
    make.add_argument("--pages", action="store_true", help="records are pages of 3-6 articles (for --split)")
    bench = sub.add_parser("run", help="run the engines over one synthetic archive")
    bench.add_argument("--articles", type=int, default=100_000)
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--configs", default="local:1,local:2,spark:1,spark:2")
    args = parser.parse_args()
    if args.cmd == "make":
        write_jsonl(args.out, pages(args.articles, args.seed) if args.pages else articles(args.articles, args.seed))
        return
    results = run(args.articles, args.configs.split(","), args.seed, None)
    print("| engine | wall s | articles/s | CPU s (all processes) | articles per CPU s | peak RSS per process (MB) | output MB |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for r in results:
        peaks = ", ".join(f"{name} {mb}" for name, mb in r["peak_rss_mb"])
        print(f"| {r['config']} | {r['seconds']} | {r['articles_per_s']} | {r['cpu_seconds']} | {r['articles_per_cpu_s']} | {peaks} | {r['output_mb']} |")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
