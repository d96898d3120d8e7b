"""Word segmentation speed (MB/s) and agreement: jieba, rjieba (jieba-rs), jieba_fast; HMM on and off.

    .venv/bin/python -m bench.tokenizers [--runs 5]

Texts: every article of labels/corpus.csv, plus, when ../shared is present, the three seed pages
and all articles of lawcrime_dev.jsonl; each document is normalized (training.normalize) and cut
on its own, as the pipeline does. Every tokenizer loads jieba's dictionary plus our legal
dictionary (training.tokenize.read_user_dict + add_word). jieba_fast is used from the project
venv if importable there, else from a throwaway venv build/jieba-fast-venv (pip install
jieba_fast, a C extension built from source); it runs there as a worker process driven over
stdin/stdout, so its runs interleave with the others. Timings: median of --runs, tokenizers
interleaved run by run. Agreement with jieba at the same HMM setting: share of jieba's tokens
(as character spans) that the other tokenizer also produced, and share of documents cut identically.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and sys.path and Path(sys.path[0]).name == "bench":
    sys.path.pop(0)  # run as a script (worker mode): keep bench/http.py from shadowing the stdlib

import argparse
import json
import logging
import shutil
import subprocess
import time

JF_VENV_NAME = "jieba-fast-venv"


# ----------------------------------------------------------------------------- worker (jieba_fast venv)

def worker(docs_path: str) -> None:
    """Load jieba_fast with our dictionary; answer `time HMM` and `tokens HMM OUT` lines on stdin."""
    import jieba_fast

    data = json.loads(Path(docs_path).read_text(encoding="utf-8"))
    docs = data["docs"]
    started = time.perf_counter()
    jieba_fast.setLogLevel(logging.WARNING)
    tk = jieba_fast.Tokenizer()
    tk.tmp_dir = data.get("cache_dir") or None
    tk.initialize()
    for word, freq, pos in data["dict"]:
        tk.add_word(word, freq, pos)
    load = time.perf_counter() - started
    from importlib.metadata import version

    print(json.dumps({"ready": True, "load_seconds": load, "version": version("jieba_fast")}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        hmm = parts[1] == "1"
        if parts[0] == "time":
            started = time.perf_counter()
            for doc in docs:
                tk.lcut(doc, HMM=hmm)
            print(json.dumps({"seconds": time.perf_counter() - started}), flush=True)
        elif parts[0] == "tokens":
            Path(parts[2]).write_text(json.dumps([tk.lcut(doc, HMM=hmm) for doc in docs], ensure_ascii=False), encoding="utf-8")
            print(json.dumps({"done": True}), flush=True)


# ----------------------------------------------------------------------------- main process

class JiebaFastProcess:
    """jieba_fast in another interpreter; same interface as the in-process cutters."""

    def __init__(self, python: str, docs_file: Path):
        self.proc = subprocess.Popen([python, str(Path(__file__).resolve()), "--worker", str(docs_file)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = json.loads(self.proc.stdout.readline())
        self.load_seconds, self.version = hello["load_seconds"], hello["version"]

    def ask(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError("jieba_fast worker died")
        return json.loads(reply)

    def close(self) -> None:
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def jieba_fast_python(repo_root: Path) -> tuple[str | None, str]:
    """(python that can import jieba_fast, how it was obtained) or (None, why not)."""
    if subprocess.run([sys.executable, "-c", "import jieba_fast"], capture_output=True).returncode == 0:
        return sys.executable, "jieba_fast from the project venv"
    venv = repo_root / "build" / JF_VENV_NAME
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", "import jieba_fast"], capture_output=True).returncode == 0:
        return str(python), f"jieba_fast from build/{JF_VENV_NAME}"
    print(f"jieba_fast is not in the project venv; building it in build/{JF_VENV_NAME} …", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    try:
        subprocess.run([shutil.which("python3") or sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "jieba_fast"], capture_output=True, text=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return None, f"jieba_fast: could not create build/{JF_VENV_NAME} ({exc})"
    if proc.returncode != 0:
        tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        return None, f"jieba_fast failed to install/build (`pip install jieba_fast`): {tail[:400]}"
    return str(python), f"jieba_fast built and installed into build/{JF_VENV_NAME} (not importable from the project venv)"


def spans(tokens: list[str]) -> set[tuple[int, int]]:
    out, pos = set(), 0
    for token in tokens:
        out.add((pos, pos + len(token)))
        pos += len(token)
    return out


def agreement(reference: list[list[str]], other: list[list[str]]) -> tuple[float, float]:
    """(% of reference tokens also produced by other, % of documents cut identically)."""
    same_tokens = total = same_docs = 0
    for a, b in zip(reference, other):
        sa = spans(a)
        same_tokens += len(sa & spans(b))
        total += len(sa)
        same_docs += a == b
    return 100.0 * same_tokens / max(total, 1), 100.0 * same_docs / max(len(reference), 1)


def load_docs() -> tuple[list[str], list[str]]:
    """(normalized documents, description of the sources)."""
    from bench.throughput import SHARED, corpus_texts
    from training.data import compose
    from training.normalize import normalize_text

    docs = corpus_texts()
    sources = [f"labels/corpus.csv: {len(docs)} articles"]
    if SHARED.is_dir():
        pages = sorted((SHARED / "seeds").glob("*.txt"))
        docs += [p.read_text(encoding="utf-8") for p in pages]
        law = [json.loads(line) for line in (SHARED / "data" / "lawcrime_dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        docs += [compose(item.get("title") or "", item["text"]) for item in law]
        sources += [f"seed pages: {len(pages)} whole pages", f"lawcrime_dev.jsonl: {len(law)} articles"]
    else:
        sources.append(f"{SHARED} not found: seed pages and lawcrime skipped")
        print(f"{SHARED} not found: timing labels/corpus.csv only (seed pages and lawcrime skipped)", file=sys.stderr)
    return [normalize_text(d) for d in docs], sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    import tempfile
    from importlib import metadata

    from bench.throughput import REPO_ROOT, median, publish
    from training.config import get_settings
    from training.tokenize import read_user_dict

    started_all = time.perf_counter()
    settings = get_settings()
    entries = read_user_dict(settings.legal_dict_path)
    docs, sources = load_docs()
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    chars = sum(map(len, docs))

    cutters, load_seconds, versions, notes = {}, {}, {}, []
    import jieba
    import rjieba

    t0 = time.perf_counter()
    jieba.setLogLevel(logging.WARNING)
    jt = jieba.Tokenizer()
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    jt.tmp_dir = str(settings.cache_dir)
    jt.initialize()
    for word, freq, pos in entries:
        jt.add_word(word, freq, pos)
    load_seconds["jieba"] = time.perf_counter() - t0
    cutters["jieba"] = lambda doc, hmm: jt.lcut(doc, HMM=hmm)
    versions["jieba"] = metadata.version("jieba")

    t0 = time.perf_counter()
    rt = rjieba.Jieba()
    for word, freq, pos in entries:
        rt.add_word(word, freq, pos)
    load_seconds["rjieba"] = time.perf_counter() - t0
    cutters["rjieba"] = lambda doc, hmm: rt.cut(doc, hmm)
    versions["rjieba"] = metadata.version("rjieba")

    jf = None
    tmp = Path(tempfile.mkdtemp(prefix="tokbench-"))
    try:
        python, how = jieba_fast_python(REPO_ROOT)
        notes.append(how)
        if python:
            docs_file = tmp / "docs.json"
            cache = REPO_ROOT / "build" / "jieba-fast-cache"  # its own prefix-dictionary cache, kept between runs
            cache.mkdir(parents=True, exist_ok=True)
            docs_file.write_text(json.dumps({"docs": docs, "dict": entries, "cache_dir": str(cache)}, ensure_ascii=False), encoding="utf-8")
            jf = JiebaFastProcess(python, docs_file)
            load_seconds["jieba_fast"] = jf.load_seconds
            versions["jieba_fast"] = jf.version

        names = list(cutters) + (["jieba_fast"] if jf else [])
        seconds: dict[tuple[str, bool], list[float]] = {(n, h): [] for n in names for h in (False, True)}
        tokens: dict[tuple[str, bool], list[list[str]]] = {}
        for hmm in (False, True):  # outputs for agreement (and a warm-up)
            for name, cut in cutters.items():
                tokens[(name, hmm)] = [cut(d, hmm) for d in docs]
            if jf:
                out = tmp / f"jf-{int(hmm)}.json"
                jf.ask(f"tokens {int(hmm)} {out}")
                tokens[("jieba_fast", hmm)] = json.loads(out.read_text(encoding="utf-8"))
        for _ in range(args.runs):
            for hmm in (False, True):
                for name, cut in cutters.items():
                    t0 = time.perf_counter()
                    for d in docs:
                        cut(d, hmm)
                    seconds[(name, hmm)].append(time.perf_counter() - t0)
                if jf:
                    seconds[("jieba_fast", hmm)].append(jf.ask(f"time {int(hmm)}")["seconds"])
    finally:
        if jf:
            jf.close()
        shutil.rmtree(tmp, ignore_errors=True)

    body = [
        f"Texts: {len(docs):,} documents, {chars:,} characters, {mb:.2f} MB UTF-8 ({'; '.join(sources)}); normalized with "
        "`training.normalize.normalize_text`, each cut separately. Dictionary: jieba's default + labels/legal_dict.txt "
        f"({len(entries)} entries via `add_word`). Median of {args.runs} runs, interleaved.",
        "",
        "| tokenizer | HMM | MB/s | ×jieba (same HMM) | s per pass (median) | tokens identical to jieba | documents identical to jieba |",
        "|---|---|---|---|---|---|---|",
    ]
    for hmm in (False, True):
        base = median(seconds[("jieba", hmm)])
        for name in names:
            s = median(seconds[(name, hmm)])
            tok, doc = agreement(tokens[("jieba", hmm)], tokens[(name, hmm)])
            body.append(f"| {name} {versions.get(name, '')} | {'on' if hmm else 'off'} | {mb / s:.2f} | {base / s:.1f} | {s:.2f} | {tok:.3f}% | {doc:.1f}% |")
    body += ["", "Dictionary load + `add_word` of the legal dictionary, once per process (single measurement; jieba from its cache file): "
             + ", ".join(f"{n} {load_seconds[n]:.2f} s" for n in names) + "."]
    mismatched = {}
    for name in names:
        for hmm in (False, True):
            if name != "jieba":
                mismatched[(name, hmm)] = sum(a != b for a, b in zip(tokens[("jieba", hmm)], tokens[(name, hmm)]))
    body.append("Documents cut differently from jieba: " + ", ".join(
        f"{n} HMM {'on' if h else 'off'}: {v} of {len(docs)}" for (n, h), v in mismatched.items()) + ".")
    body += [f"- {n}" for n in notes]
    publish("tokenizers", "Tokenization speed and agreement (`bench.tokenizers`)", body, started=started_all)


if __name__ == "__main__":
    main()
