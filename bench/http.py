"""HTTP latency and throughput of `legal-tagger serve` (gunicorn, preloaded model).

    .venv/bin/python -m bench.http [--workers 2] [--duration 10] [--repeat 3] [--variants gthread:8,sync:1]

Starts the service on 127.0.0.1 with the active model, drives it with wrk (apt: wrk) at 1 and
8 connections with a ~1,500-character article, then compares a batch of 100 texts with 100
single requests. With --repeat N the connection counts take turns N times and each figure is
the median of its N runs (the machine is shared: a single run can land in a slow phase).
Every request loop is bounded in time and count; the server is stopped at the end.

--variants compares gunicorn worker classes (CLASS:THREADS) in one run: each round starts each
variant's server in turn, measures it and stops it, so variants share the machine's slow and
fast phases instead of one of them getting all of a slow one.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from training.config import REPO_ROOT, get_settings


def pick_article(target: int = 1500) -> str:
    """A `target`-character text from our own corpus: its longest article, continued by the next
    longest ones and cut at `target` (our articles are shorter than 1,500 characters)."""
    rows = list(csv.DictReader(open(get_settings().corpus_path, encoding="utf-8")))
    texts = sorted(((r.get("title", "") + "\n" + r["text"]).strip() for r in rows), key=len, reverse=True)
    out = ""
    for text in texts:
        if len(out) >= target:
            break
        out = f"{out}\n{text}" if out else text
    return out[:target]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/readyz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("service did not become ready")


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, body: str, connections: int, duration: int) -> dict:
    """Requests/s and latency percentiles from wrk --latency."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as lua:
        lua.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        lua.write(f"wrk.body = [==[{body}]==]\n")  # a Lua long string keeps the UTF-8 bytes as they are
    out = subprocess.run(
        ["wrk", "-t", "1" if connections == 1 else "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", lua.name, url + "/classify"],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout
    os.unlink(lua.name)
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "connections": connections,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(pct["50"]), "p90_ms": _ms(pct["90"]), "p99_ms": _ms(pct["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _median_run(runs: list[dict]) -> dict:
    """Per-field medians of repeated wrk runs at one connection count (failures summed)."""
    keys = ("rps", "p50_ms", "p90_ms", "p99_ms")
    return {"connections": runs[0]["connections"], **{k: statistics.median(r[k] for r in runs) for k in keys},
            "non_2xx": sum(r["non_2xx"] for r in runs), "rps_range": (min(r["rps"] for r in runs), max(r["rps"] for r in runs))}


def batch_vs_single(url: str, article: str, n: int = 100, rounds: int = 5) -> dict:
    """Articles/s: one request with n texts vs n sequential single requests (medians of rounds)."""
    session = requests.Session()
    singles, batches = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            session.post(url + "/classify", json={"text": article}, timeout=10).raise_for_status()
        singles.append(n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        session.post(url + "/classify", json={"texts": [article] * n}, timeout=60).raise_for_status()
        batches.append(n / (time.perf_counter() - t0))
    single, batch = statistics.median(singles), statistics.median(batches)
    return {"single_articles_per_s": round(single, 1), "batch_articles_per_s": round(batch, 1), "ratio": round(batch / single, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", default="1,8", help="comma-separated wrk connection counts")
    parser.add_argument("--repeat", type=int, default=1, help="runs per connection count, interleaved; medians are reported")
    parser.add_argument("--variants", default="gthread:8", help="comma-separated CLASS:THREADS gunicorn worker setups to compare, e.g. gthread:8,sync:1")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    parser_variants = [v.split(":") for v in args.variants.split(",")]
    article = pick_article()
    body = json.dumps({"text": article}, ensure_ascii=False)
    counts = [int(c) for c in args.connections.split(",")]
    raw: dict[str, list[dict]] = {}
    batches: dict[str, list[dict]] = {}
    for _ in range(args.repeat):
        for worker_class, threads in parser_variants:
            name = f"{worker_class}:{threads}"
            with serving(args.workers, worker_class, int(threads)) as url:
                for _ in range(200):  # warm every worker
                    requests.post(url + "/classify", data=body.encode(), headers={"Content-Type": "application/json"}, timeout=10)
                raw.setdefault(name, []).extend(run_wrk(url, body, c, args.duration) for c in counts)
                batches.setdefault(name, []).append(batch_vs_single(url, article, rounds=2))
    print(f"article: {len(article)} characters; gunicorn workers: {args.workers}; wrk {args.duration}s per run, "
          f"{args.repeat} round(s), variants taking turns (medians); {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    print("| worker class:threads | connections | requests/s (min–max) | p50 ms | p90 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in raw.items():
        for c in counts:
            r = _median_run([x for x in runs if x["connections"] == c])
            low, high = r["rps_range"]
            print(f"| {name} | {c} | {r['rps']:.0f} ({low:.0f}–{high:.0f}) | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['non_2xx']} |")
    for name, rounds in batches.items():
        ratio = statistics.median(b["ratio"] for b in rounds)
        batch = statistics.median(b["batch_articles_per_s"] for b in rounds)
        single = statistics.median(b["single_articles_per_s"] for b in rounds)
        print(f"\n{name}: batch of 100 texts: {batch} articles/s; 100 single requests: {single} articles/s; ratio {ratio}x")


@contextlib.contextmanager
def serving(workers: int, worker_class: str, threads: int):
    """`legal-tagger serve` with a worker class and thread count; yields its URL, stops it after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TAGGER_LOG_LEVEL": "warning", "GUNICORN_CMD_ARGS": f"--worker-class {worker_class}"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "legal-tagger"), "serve", "--port", str(port), "--workers", str(workers), "--threads", str(threads)],
        env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_ready(url)
        yield url
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
