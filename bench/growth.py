"""How cost grows: training time and memory with rows, classification speed with article length.

    .venv/bin/python -m bench.growth [--sizes 1000,5000,20000,100000] [--max-train-seconds 600] [--runs 5]

Training: synthetic corpora of 1k … 100k rows, each row 2–4 paragraphs drawn (seed 0) from the
rows of labels/corpus.csv that share one label set (the set picked with the corpus's own
frequencies), so labels stay meaningful; every synthetic text is unique. Each size is fitted in a
fresh child process (read_csv + training.pipeline.fit, the work of `legal-tagger train --no-cv`:
vectorizers, per-label threshold CV, final fit); wall time, fit time and the child's peak RSS
(ru_maxrss) are recorded. A size whose predicted time (power law through the last two sizes, exponent at least 1, plus
25%) exceeds --max-train-seconds (600 s) is not run but extrapolated, and labelled so.

Length: texts of 200 … 20,000 characters made by concatenating random corpus paragraphs, each
classified alone by the active model (training.tagger.Tagger, in process); median of --runs.
Plots: docs/plots/growth_training.png, docs/plots/growth_length.png.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.throughput import PLOTS_DIR, ensure_model, median, publish, run_rusage

FIT_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from training.config import get_settings
from training.data import read_csv
from training.pipeline import fit
from training.taxonomy import label_ids
labels = label_ids(get_settings().taxonomy_path)
data = read_csv(sys.argv[1], labels)
t1 = time.perf_counter()
model, info = fit(data, labels)
t2 = time.perf_counter()
print(json.dumps({"rows": len(data), "read_seconds": t1 - t0, "fit_seconds": t2 - t1}))
"""

LENGTHS = (200, 500, 1000, 2000, 5000, 10000, 20000)


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def synthetic_rows(n: int, texts: list[str], label_sets: list[set[str]], seed: int = 0) -> list[tuple[str, set[str]]]:
    """n unique rows of 2–4 paragraphs from corpus rows with the same label set."""
    rng = random.Random(seed)
    pools: dict[frozenset, list[str]] = {}
    for text, tags in zip(texts, label_sets):
        pools.setdefault(frozenset(tags), []).extend(paragraphs(text))
    keys = [frozenset(t) for t in label_sets]  # sampling a row's label set keeps the corpus's label mix
    seen: set[str] = set()
    rows = []
    while len(rows) < n:
        key = rng.choice(keys)
        pool = pools[key]
        for _ in range(50):  # a few label sets have small pools: redraw until the text is new
            text = "\n".join(rng.sample(pool, min(rng.randint(2, 4), len(pool))))
            if text not in seen:
                seen.add(text)
                rows.append((text, set(key)))
                break
    return rows


def write_csv(path: Path, rows: list[tuple[str, set[str]]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "labels"])
        for i, (text, tags) in enumerate(rows):
            writer.writerow([f"s{i}", text, "|".join(sorted(tags))])


def loglog_slope(x0: float, y0: float, x1: float, y1: float) -> float:
    return math.log(y1 / y0) / math.log(x1 / x0)


def texts_of_length(length: int, count: int, pool: list[str], rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        parts, size = [], 0
        while size < length:
            p = rng.choice(pool)
            parts.append(p)
            size += len(p) + 1
        out.append("\n".join(parts)[:length])
    return out


def plot_training(measured: list[dict], extrapolated: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2))
    xs = [m["rows"] for m in measured]
    a1.loglog(xs, [m["wall"] for m in measured], "o-", label="wall (read + fit), measured")
    a1.loglog(xs, [m["fit"] for m in measured], "s--", label="fit only, measured")
    a2.loglog(xs, [m["rss_mib"] for m in measured], "o-", color="tab:green", label="peak RSS, measured")
    if extrapolated:
        ex = [measured[-1]] + extrapolated
        a1.loglog([m["rows"] for m in ex], [m["wall"] for m in ex], "o:", mfc="none", color="tab:blue", label="extrapolated")
        a2.loglog([m["rows"] for m in ex], [m["rss_mib"] for m in ex], "o:", mfc="none", color="tab:green", label="extrapolated")
    a1.set_xlabel("training rows")
    a1.set_ylabel("seconds")
    a1.set_title("training time (`fit`: vectorizers + threshold CV + final fit)", fontsize=9)
    a2.set_xlabel("training rows")
    a2.set_ylabel("MiB")
    a2.set_title("peak RSS of the training process (ru_maxrss)", fontsize=9)
    for ax in (a1, a2):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_length(rows: list[dict], fit: tuple[float, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2))
    xs = [r["length"] for r in rows]
    a1.loglog(xs, [r["ms"] for r in rows], "o-", label="measured (median)")
    grid = np.geomspace(min(xs), max(xs), 50)
    a1.loglog(grid, fit[0] + fit[1] * grid / 1000, ":", color="0.4", label=f"{fit[0]:.2f} ms + {fit[1]:.2f} ms per 1,000 chars")
    a1.set_xlabel("article length, characters")
    a1.set_ylabel("ms per article (1 article per call)")
    a1.legend(fontsize=8)
    a2.semilogx(xs, [r["chars_per_s"] / 1e3 for r in rows], "o-", color="tab:orange")
    a2.set_xlabel("article length, characters")
    a2.set_ylabel("thousand characters per second")
    for ax in (a1, a2):
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("classification cost vs article length (in-process Tagger.classify)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000,100000")
    parser.add_argument("--max-train-seconds", type=float, default=600,
                        help="largest predicted time of one training size that is run (600 s keeps all five benches under 25 minutes)")
    parser.add_argument("--repeats", default="1000:5,5000:3", help="training repetitions per size (others: 1), e.g. 1000:5,5000:3")
    parser.add_argument("--runs", type=int, default=5, help="repetitions of the length timings")
    args = parser.parse_args()
    started_all = time.perf_counter()

    from training.config import get_settings
    from training.data import read_csv
    from training.taxonomy import label_ids

    settings = get_settings()
    labels = label_ids(settings.taxonomy_path)
    corpus = read_csv(settings.corpus_path, labels)
    sizes = [int(s) for s in args.sizes.split(",")]
    repeats = {int(k): int(v) for k, v in (p.split(":") for p in args.repeats.split(",") if p)}

    # ------------------------------------------------------------------ training growth
    measured: list[dict] = []
    extrapolated: list[dict] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="growth-") as tmp:
        for n in sizes:
            if len(measured) >= 2:
                # The exponent steepens with size (threshold CV and liblinear are superlinear): a 25% margin.
                a, b = measured[-2], measured[-1]
                predicted = 1.25 * b["wall"] * (n / b["rows"]) ** max(1.0, loglog_slope(a["rows"], a["wall"], b["rows"], b["wall"]))
            elif measured:
                predicted = measured[-1]["wall"] * n / measured[-1]["rows"]
            else:
                predicted = 0.0
            if predicted > args.max_train_seconds:
                notes.append(f"**{n:,} rows not run**: predicted {predicted:.0f} s (power law through the last two sizes, exponent ≥ 1, +25% margin) "
                             f"> --max-train-seconds {args.max_train_seconds:.0f}; its figures below are extrapolated")
                break
            rows = synthetic_rows(n, corpus.texts, corpus.labels)
            path = Path(tmp) / f"rows-{n}.csv"
            write_csv(path, rows)
            walls, fits, rss = [], [], []
            for _ in range(repeats.get(n, 1)):
                print(f"training on {n:,} synthetic rows …", file=sys.stderr)
                try:
                    wall, maxrss, out = run_rusage([sys.executable, "-c", FIT_CHILD, str(path)], timeout=args.max_train_seconds * 1.5 + 60)
                except TimeoutError as exc:
                    notes.append(f"{n:,} rows: {exc}")
                    break
                info = json.loads(out.decode().strip().splitlines()[-1])
                walls.append(wall)
                fits.append(info["fit_seconds"])
                rss.append(maxrss / 1024)
            if not walls:
                break
            chars = sum(len(t) for t, _ in rows)
            measured.append({"rows": info["rows"], "chars": chars, "wall": median(walls), "fit": median(fits), "rss_mib": median(rss),
                             "runs": len(walls), "wall_min": min(walls), "wall_max": max(walls)})
            print(f"  {n:,} rows: wall {median(walls):.1f} s, peak RSS {median(rss):.0f} MiB (predicted {predicted:.0f} s)", file=sys.stderr)
            path.unlink()
        done = {m["rows"] for m in measured}
        remaining = [n for n in sizes if n not in done and n > max(done, default=0)]
        if remaining and len(measured) >= 2:
            # Time: power law through the last two sizes. Memory: a straight line through them (the
            # interpreter and libraries are a fixed base; vocabularies and matrices grow with rows).
            a, b = measured[-2], measured[-1]
            st = max(1.0, loglog_slope(a["rows"], a["wall"], b["rows"], b["wall"]))
            per_row = (b["rss_mib"] - a["rss_mib"]) / (b["rows"] - a["rows"])
            for n in remaining:
                f = (n / b["rows"]) ** st
                extrapolated.append({"rows": n, "wall": b["wall"] * f, "fit": b["fit"] * f, "rss_mib": b["rss_mib"] + per_row * (n - b["rows"]),
                                     "exponent": st})

    # ------------------------------------------------------------------ length growth
    models_dir, version, model_note = ensure_model()
    from training import artifacts
    from training.tagger import Tagger

    pipe, meta = artifacts.load_model(models_dir, version)
    tagger = Tagger(pipe, meta)
    rng = random.Random(0)
    pool = [p for t in corpus.texts for p in paragraphs(t)]
    sets = {L: texts_of_length(L, max(10, min(500, 200_000 // L)), pool, rng) for L in LENGTHS}
    tagger.classify(sets[1000][:10])  # warm-up
    timings: dict[int, list[float]] = {L: [] for L in LENGTHS}
    for _ in range(args.runs):
        for L, texts in sets.items():
            t0 = time.perf_counter()
            for text in texts:
                tagger.classify([text])
            timings[L].append((time.perf_counter() - t0) / len(texts))
    length_rows = []
    for L in LENGTHS:
        per = median(timings[L])
        length_rows.append({"length": L, "n": len(sets[L]), "ms": per * 1000, "articles_per_s": 1 / per, "chars_per_s": L / per,
                            "min_ms": min(timings[L]) * 1000, "max_ms": max(timings[L]) * 1000})
    X = np.array([[1.0, r["length"] / 1000] for r in length_rows])
    y = np.array([r["ms"] for r in length_rows])
    w = 1.0 / y  # relative errors: short texts count as much as long ones
    coef = np.linalg.lstsq(X * w[:, None], y * w, rcond=None)[0]
    fit_line = (float(coef[0]), float(coef[1]))

    plot_training(measured, extrapolated, PLOTS_DIR / "growth_training.png")
    plot_length(length_rows, fit_line, PLOTS_DIR / "growth_length.png")

    # ------------------------------------------------------------------ report
    body = [
        "### Training time and memory vs rows",
        "",
        f"Synthetic rows: 2–4 paragraphs (mean paragraph {np.mean([len(p) for p in pool]):.0f} characters) drawn, seed 0, from corpus rows with the same "
        f"label set; label sets sampled with the corpus's frequencies. Each size is fitted in a fresh process (`read_csv` + `training.pipeline.fit` "
        "with default parameters: word + char TF-IDF + cues, per-label threshold CV (5 folds) and final fit, as `legal-tagger train --no-cv`). "
        "Peak RSS: ru_maxrss of that process. Training timings: median of the runs shown (training is too slow to repeat 5 times at the large sizes).",
        "",
        "| rows | characters | runs | wall s (read + fit), median [min–max] | fit s | peak RSS MiB | time exponent vs previous size | extra MiB per 1,000 more rows |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, m in enumerate(measured):
        if i:
            p = measured[i - 1]
            et = f"{loglog_slope(p['rows'], p['wall'], m['rows'], m['wall']):.2f}"
            em = f"{1000 * (m['rss_mib'] - p['rss_mib']) / (m['rows'] - p['rows']):.1f}"
        else:
            et = em = "–"
        body.append(f"| {m['rows']:,} | {m['chars']:,} | {m['runs']} | {m['wall']:.1f} [{m['wall_min']:.1f}–{m['wall_max']:.1f}] | {m['fit']:.1f} | {m['rss_mib']:.0f} | {et} | {em} |")
    for e in extrapolated:
        body.append(f"| {e['rows']:,} | – | **extrapolated, not measured** | ≈{e['wall']:.0f} (≈{1.25 * e['wall']:.0f} with +25%) | ≈{e['fit']:.0f} | ≈{e['rss_mib']:.0f} "
                    f"| time: exponent {e['exponent']:.2f} of the last two sizes | memory: straight line through the last two sizes |")
    body.append("")
    body += [f"- {n}" for n in notes]
    if len(measured) >= 2:
        first, last = measured[0], measured[-1]
        overall = loglog_slope(first["rows"], first["wall"], last["rows"], last["wall"])
        per_k = [f"{m['rows']:,}: {1000 * m['fit'] / m['rows']:.2f} s" for m in measured]
        exps = [loglog_slope(p["rows"], p["wall"], m["rows"], m["wall"]) for p, m in zip(measured, measured[1:])]
        per_row = (last["rss_mib"] - first["rss_mib"]) / (last["rows"] - first["rows"]) * 1000
        body.append(f"- observed: wall time ∝ rows^{overall:.2f} overall from {first['rows']:,} to {last['rows']:,} rows "
                    f"(exponents between successive sizes: {', '.join(f'{x:.2f}' for x in exps)}); "
                    f"fit seconds per 1,000 rows: {', '.join(per_k)}; peak RSS grows from {first['rss_mib']:.0f} to {last['rss_mib']:.0f} MiB, "
                    f"about {per_row:.0f} MiB per 1,000 rows on top of a fixed base (affine in rows, not a power law).")
    body += ["- plot: `docs/plots/growth_training.png`", ""]

    cross = fit_line[0] / fit_line[1] * 1000 if fit_line[1] > 0 else float("nan")
    body += [
        "### Classification speed vs article length",
        "",
        f"Model: {model_note}. Texts: random corpus paragraphs joined by newlines and cut to the length (seed 0); each text classified alone "
        f"(`Tagger.classify([text])`, in process); median of {args.runs} interleaved runs.",
        "",
        "| characters | texts per run | ms per article, median [min–max] | articles/s | thousand characters/s |",
        "|---|---|---|---|---|",
    ]
    for r in length_rows:
        body.append(f"| {r['length']:,} | {r['n']} | {r['ms']:.2f} [{r['min_ms']:.2f}–{r['max_ms']:.2f}] | {r['articles_per_s']:.0f} | {r['chars_per_s'] / 1e3:.0f} |")
    slope_len = loglog_slope(length_rows[0]["length"], length_rows[0]["ms"], length_rows[-1]["length"], length_rows[-1]["ms"])
    body += [
        "",
        f"- least-squares line (relative errors): {fit_line[0]:.2f} ms fixed per call + {fit_line[1]:.2f} ms per 1,000 characters; the fixed part equals the "
        f"length-dependent part at about {cross:,.0f} characters; ms ∝ length^{slope_len:.2f} from {LENGTHS[0]:,} to {LENGTHS[-1]:,} characters.",
        "- plot: `docs/plots/growth_length.png`",
    ]
    publish("growth", "How cost grows (`bench.growth`)", body, started=started_all)


if __name__ == "__main__":
    main()
