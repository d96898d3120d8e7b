"""Latency of /healthz and /classify while slow clients hold connections half-sent.

    .venv/bin/python -m bench.slow_clients [--slow 4] [--requests 20] [--variants gthread:8,sync:1]

For each gunicorn worker setup (CLASS:THREADS) it starts `legal-tagger serve` with 2 workers,
opens --slow sockets that send the headers and part of a body of a POST /classify and then
stall, and times --requests requests to each endpoint with a 2 s client timeout. Bounded in
count and time; every server is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time

import requests

from bench.http import serving

HALF_REQUEST = (
    b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    b'{"text": "'
)


def measure(url: str, slow: int, n: int) -> dict:
    """Median and worst latency (ms) and timeouts per endpoint with `slow` stalled sockets open."""
    host, port = url.removeprefix("http://").split(":")
    stalled = [socket.create_connection((host, int(port)), timeout=5) for _ in range(slow)]
    for sock in stalled:
        sock.sendall(HALF_REQUEST)
    time.sleep(0.5)
    out = {}
    try:
        for name, call in (
            ("healthz", lambda: requests.get(url + "/healthz", timeout=2)),
            ("classify", lambda: requests.post(url + "/classify", json={"text": "派出所民警抓获盗窃嫌疑人"}, timeout=2)),
        ):
            times, timeouts = [], 0
            for _ in range(n):
                started = time.perf_counter()
                try:
                    call().raise_for_status()
                    times.append((time.perf_counter() - started) * 1000)
                except requests.Timeout:
                    timeouts += 1
            out[name] = {"median_ms": statistics.median(times) if times else None, "max_ms": max(times) if times else None, "timeouts": timeouts}
    finally:
        for sock in stalled:
            sock.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow", type=int, default=4)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--variants", default="gthread:8,sync:1")
    args = parser.parse_args()
    print(f"{args.slow} stalled clients, {args.requests} requests per endpoint (2 s client timeout); 2 workers; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    print("| worker class:threads | endpoint | median ms | worst ms | timed out |")
    print("|---|---|---|---|---|")
    for variant in args.variants.split(","):
        worker_class, threads = variant.split(":")
        with serving(2, worker_class, int(threads)) as url:
            result = measure(url, args.slow, args.requests)
        for endpoint, r in result.items():
            median = f"{r['median_ms']:.1f}" if r["median_ms"] is not None else "–"
            worst = f"{r['max_ms']:.1f}" if r["max_ms"] is not None else "–"
            print(f"| {variant} | {endpoint} | {median} | {worst} | {r['timeouts']} of {args.requests} |")


if __name__ == "__main__":
    main()
