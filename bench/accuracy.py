"""Accuracy of our pipeline against the alternatives, on the same splits, in one run.

    .venv/bin/python -m bench.accuracy [--autotune-seconds 60] [--cv-autotune-seconds 20] [--no-fasttext]

Every method is trained on labels/corpus.csv (or on the same 5 cross-validation training folds,
sklearn KFold(5, shuffle=True, random_state=0)) and scored with training.evaluate.score:
  1. keyword counts (training.baseline.KeywordCounter, per-label minimum count tuned on the training rows),
  2. fastText supervised, one-vs-all loss, on jieba-segmented text, autotuned for a fixed time on a
     validation split carved from the training rows, then refit on all of them; label if p >= 0.5,
  3. character 2–3-gram TF-IDF only and 4. word (jieba) TF-IDF only, each with our classifier,
  5. our default pipeline (training.pipeline).
Gold sets (from ../shared via bench.gold_sets, honouring `optional`): seeds (22 articles from three
seed pages) and lawcrime (120 labeled articles). Without ../shared only the cross-validation runs.
Calibration of our pipeline on the gold sets: Brier score, ECE (10 bins), docs/plots/reliability.png.

fastText runs in its own virtualenv, build/fasttext-venv (fasttext-wheel 0.9.2 + numpy<2), made
on first use; bench/fasttext_worker.py does the fastText side and exchanges JSONL files with us.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.throughput import PLOTS_DIR, REPO_ROOT, SHARED, publish

FT_VENV = REPO_ROOT / "build" / "fasttext-venv"
FT_PYTHON = FT_VENV / "bin" / "python"
FT_DIR = REPO_ROOT / "build" / "fasttext"
FT_MODEL = FT_DIR / "corpus-model.bin"  # the full-corpus model, reused by bench.throughput
FT_WORKER = REPO_ROOT / "bench" / "fasttext_worker.py"
FT_REQUIREMENTS = ["fasttext-wheel==0.9.2", "numpy<2"]


# ----------------------------------------------------------------------------- fastText plumbing

def ensure_fasttext_venv() -> str | None:
    """Create build/fasttext-venv if needed; None when ready, else why it is unavailable."""
    check = [str(FT_PYTHON), "-c", "import fasttext, numpy; assert numpy.__version__ < '2'"]
    if FT_PYTHON.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return None
    print(f"creating {FT_VENV.relative_to(REPO_ROOT)} ({' '.join(FT_REQUIREMENTS)}) …", file=sys.stderr)
    shutil.rmtree(FT_VENV, ignore_errors=True)
    python = shutil.which("python3") or sys.executable
    try:
        subprocess.run([python, "-m", "venv", str(FT_VENV)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(FT_PYTHON), "-m", "pip", "install", "--quiet", *FT_REQUIREMENTS],
                       check=True, capture_output=True, timeout=600)
        subprocess.run(check, check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return f"could not set up {FT_VENV.name}: {exc}; {detail.decode(errors='replace')[-500:]}"
    return None


def ft_tokenize(texts: list[str]) -> list[str]:
    """fastText input: our normalization, then jieba words (training.tokenize) joined by spaces."""
    from training.normalize import normalize_text
    from training.tokenize import tokenize

    return [" ".join(tokenize(normalize_text(t))) for t in texts]


def run_fasttext(command: str, job: Path, timeout: float) -> None:
    log = job / f"{command}.log"
    with open(log, "wb") as err:
        proc = subprocess.run([str(FT_PYTHON), str(FT_WORKER), command, str(job)], stdout=err, stderr=err, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"fastText {command} failed ({proc.returncode}): {log.read_text(errors='replace')[-1500:]}")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


# ----------------------------------------------------------------------------- methods

def _params():
    from training.pipeline import check_params

    return check_params(None)


def _classifier(labels):
    from sklearn.linear_model import LogisticRegression

    from training.classifier import ThresholdedOneVsRest

    p = _params()
    return ThresholdedOneVsRest(
        labels=list(labels),
        estimator=LogisticRegression(C=p["C"], class_weight="balanced", max_iter=3000, solver="liblinear"),
        cv=p["cv"], threshold_tolerance=p["threshold_tolerance"],
    )


def single_vectorizer_pipeline(kind: str, labels):
    """Like training.pipeline.build_pipeline, but with only the word or only the char TF-IDF."""
    from sklearn.pipeline import Pipeline

    from training.features import FastTfidfVectorizer, TextNormalizer
    from training.tokenize import tokenize

    p = _params()
    if kind == "words":
        vec = FastTfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2),
                                  min_df=p["word_min_df"], sublinear_tf=True, max_df=0.9)
    else:
        vec = FastTfidfVectorizer(analyzer="char", ngram_range=(2, 3), min_df=p["char_min_df"], sublinear_tf=True,
                                  max_features=p["char_max_features"], max_df=0.9)
    return Pipeline([("normalize", TextNormalizer()), ("features", vec), ("classify", _classifier(labels))])


def _sets(matrix: np.ndarray, labels) -> list[set[str]]:
    return [{labels[k] for k in np.flatnonzero(row)} for row in matrix]


class Method:
    """fit_predict(train texts, train label sets, {name: test texts}) -> {name: (sets, proba|None)}."""

    key = name = ""

    def fit_predict(self, train_texts, train_sets, tests, labels, context):  # pragma: no cover
        raise NotImplementedError


class Keywords(Method):
    key, name = "keywords", "keyword counts (baseline)"

    def fit_predict(self, train_texts, train_sets, tests, labels, context):
        from training.baseline import KeywordCounter
        from training.pipeline import indicator

        model = KeywordCounter().fit(train_texts, indicator(train_sets, labels))
        assert list(model.classes_) == list(labels)
        return {name: (_sets(model.predict(texts), labels), None) for name, texts in tests.items()}


class SklearnPipeline(Method):
    def __init__(self, key, name, build):
        self.key, self.name, self.build = key, name, build

    def fit_predict(self, train_texts, train_sets, tests, labels, context):
        from training.pipeline import indicator

        model = self.build(labels).fit(list(train_texts), indicator(train_sets, labels))
        out = {}
        for name, texts in tests.items():
            proba = model.predict_proba(list(texts))
            out[name] = (_sets(model.predict(list(texts)), labels), proba)
        return out


class FastText(Method):
    key, name = "fasttext", "fastText (ova, autotuned)"

    def __init__(self, autotune_seconds: int, cv_autotune_seconds: int, memory_gib: float):
        self.autotune_seconds, self.cv_autotune_seconds = autotune_seconds, cv_autotune_seconds
        self.memory_gib = memory_gib
        self.infos: dict[str, dict] = {}

    def fit_predict(self, train_texts, train_sets, tests, labels, context):
        tokens = context["ft_tokens"]  # text -> segmented text, computed once per run
        seconds = self.cv_autotune_seconds if context["split"].startswith("cv") else self.autotune_seconds
        (FT_DIR / "jobs").mkdir(parents=True, exist_ok=True)
        job = Path(tempfile.mkdtemp(prefix=f"{context['split']}-", dir=FT_DIR / "jobs"))  # unique: two runs may overlap
        try:
            _write_jsonl(job / "train.jsonl", [{"text": tokens[t], "labels": sorted(s)} for t, s in zip(train_texts, train_sets)])
            for name, texts in tests.items():
                _write_jsonl(job / f"test-{name}.jsonl", [{"text": tokens[t]} for t in texts])
            (job / "config.json").write_text(json.dumps({"labels": list(labels), "autotune_seconds": seconds, "max_memory_gib": self.memory_gib,
                                                         "valid_fraction": 0.2, "seed": 0, "threads": os.cpu_count() or 1}))
            # Autotune stops its trials at `seconds`; retraining the best trial's settings (fastText does
            # that on 80% of the rows, we on all of them) takes about as long as that trial did.
            run_fasttext("train", job, timeout=4 * seconds + 60)
            run_fasttext("predict", job, timeout=300)
            self.infos[context["split"]] = json.loads((job / "train_info.json").read_text())
            out = {}
            for name in tests:
                rows = [json.loads(line)["proba"] for line in (job / f"proba-{name}.jsonl").read_text(encoding="utf-8").splitlines()]
                proba = np.array([[row[label] for label in labels] for row in rows])
                out[name] = (_sets(proba >= 0.5, labels), proba)
            if context["split"] == "full":
                FT_MODEL.unlink(missing_ok=True)
                os.replace(job / "model.bin", FT_MODEL)
        finally:
            shutil.rmtree(job, ignore_errors=True)
        return out


class Ours(Method):
    key, name = "ours", "our pipeline (words ⊕ chars ⊕ cues)"

    def fit_predict(self, train_texts, train_sets, tests, labels, context):
        from training.data import Dataset
        from training.pipeline import fit

        model, info = fit(Dataset(list(train_texts), list(train_sets), [str(i) for i in range(len(train_texts))]), list(labels))
        context.setdefault("ours_thresholds", {})[context["split"]] = info["thresholds"]
        return {name: (_sets(model.predict(list(texts)), labels), model.predict_proba(list(texts))) for name, texts in tests.items()}


# ----------------------------------------------------------------------------- calibration

def calibration(proba: np.ndarray, gold: list[set[str]], optional: list[set[str]], labels, bins: int = 10) -> dict:
    """Per label: n, Brier, ECE (equal-width bins), mean p, observed rate; optional tags skipped."""
    out = {}
    for k, label in enumerate(labels):
        keep = [i for i in range(len(gold)) if not (label in optional[i] and label not in gold[i])]
        p = proba[keep, k]
        y = np.array([label in gold[i] for i in keep], dtype=float)
        which = np.minimum((p * bins).astype(int), bins - 1)
        ece = sum(abs(p[which == b].mean() - y[which == b].mean()) * (which == b).sum() for b in range(bins) if (which == b).any()) / len(p)
        out[label] = {"n": len(p), "brier": float(np.mean((p - y) ** 2)), "ece": float(ece),
                      "mean_p": float(p.mean()), "rate": float(y.mean()), "p": p, "y": y}
    return out


def reliability_plot(pooled: dict, labels, thresholds: dict, path: Path, bins: int = 10) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(labels), figsize=(4.2 * len(labels), 4.4), squeeze=False)
    for ax, label in zip(axes[0], labels):
        p, y = pooled[label]["p"], pooled[label]["y"]
        which = np.minimum((p * bins).astype(int), bins - 1)
        xs, ys, ns = [], [], []
        for b in range(bins):
            mask = which == b
            if mask.any():
                xs.append(p[mask].mean())
                ys.append(y[mask].mean())
                ns.append(int(mask.sum()))
        ax.plot([0, 1], [0, 1], color="0.7", lw=1, ls="--", label="perfect calibration")
        ax.plot(xs, ys, marker="o", color="tab:blue", label="our pipeline")
        for x_, y_, n_ in zip(xs, ys, ns):
            ax.annotate(str(n_), (x_, y_), textcoords="offset points", xytext=(4, -10), fontsize=7, color="0.3")
        if label in thresholds:
            ax.axvline(thresholds[label], color="tab:red", lw=1, ls=":", label=f"tuned threshold {thresholds[label]:.3f}")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{label} (n={len(p)}, ECE {pooled[label]['ece']:.3f})", fontsize=10)
        ax.set_xlabel("predicted probability (bin mean)")
        ax.set_ylabel("observed frequency")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Reliability of our pipeline on the gold articles (seeds + lawcrime pooled, 10 bins; numbers = articles per bin)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- scoring helpers

def bootstrap_macro(gold, predicted, optional, labels, rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of macro-F1 over articles resampled with replacement."""
    from training.evaluate import score

    rng = random.Random(seed)
    n = len(gold)
    values = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        values.append(score([gold[i] for i in idx], [predicted[i] for i in idx], labels, [optional[i] for i in idx])["macro_f1"])
    values.sort()
    return values[int(0.025 * rounds)], values[int(0.975 * rounds) - 1]


def _prf(m: dict) -> str:
    return f"{m['precision']:.2f} / {m['recall']:.2f} / {m['f1']:.2f}"


# ----------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--autotune-seconds", type=int, default=60, help="fastText autotune budget for the full-corpus model")
    parser.add_argument("--cv-autotune-seconds", type=int, default=20, help="fastText autotune budget per CV fold")
    parser.add_argument("--fasttext-memory-gib", type=float, default=4.0, help="address-space cap of the fastText worker")
    parser.add_argument("--no-fasttext", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()

    from sklearn.model_selection import KFold

    from training.config import get_settings
    from training.data import read_csv, read_jsonl
    from training.evaluate import score
    from training.taxonomy import label_ids

    settings = get_settings()
    labels = label_ids(settings.taxonomy_path)
    corpus = read_csv(settings.corpus_path, labels)
    notes: list[str] = []

    gold = {}
    if SHARED.is_dir():
        from bench.gold_sets import write_gold_sets

        for name, path in write_gold_sets().items():
            gold[name] = read_jsonl(path, labels)
    else:
        notes.append(f"**Gold sets skipped**: {SHARED} not found (third-party gold data beside the checkout); only cross-validation ran.")
        print(f"skipping the gold sets: {SHARED} not found", file=sys.stderr)

    methods: list[Method] = [
        Keywords(),
        SklearnPipeline("chars", "char 2–3-gram TF-IDF only", lambda labels: single_vectorizer_pipeline("chars", labels)),
        SklearnPipeline("words", "word TF-IDF only", lambda labels: single_vectorizer_pipeline("words", labels)),
        Ours(),
    ]
    ft_method = None
    if args.no_fasttext:
        notes.append("fastText skipped (--no-fasttext).")
    else:
        problem = ensure_fasttext_venv()
        if problem:
            notes.append(f"**fastText skipped**: {problem}")
        else:
            ft_method = FastText(args.autotune_seconds, args.cv_autotune_seconds, args.fasttext_memory_gib)
            methods.insert(1, ft_method)

    context: dict = {}
    if ft_method:
        every = corpus.texts + [t for d in gold.values() for t in d.texts]
        context["ft_tokens"] = dict(zip(every, ft_tokenize(every)))

    texts = np.array(corpus.texts, dtype=object)
    folds = list(KFold(5, shuffle=True, random_state=0).split(texts))
    reports: dict[str, dict[str, dict]] = {m.key: {} for m in methods}
    predictions: dict[str, dict[str, list]] = {m.key: {} for m in methods}
    fit_seconds: dict[str, float] = {}
    fold_macro: dict[str, list[float]] = {m.key: [] for m in methods}
    ours_proba = {}

    def run_method(method: Method) -> None:
        print(f"{method.name}: cross-validation …", file=sys.stderr)
        oof: list[set[str] | None] = [None] * len(texts)
        for i, (train_idx, test_idx) in enumerate(folds):
            context["split"] = f"cv{i}"
            got = method.fit_predict(list(texts[train_idx]), [corpus.labels[j] for j in train_idx], {"cv": list(texts[test_idx])}, labels, context)
            for j, tags in zip(test_idx, got["cv"][0]):
                oof[j] = tags
            fold_macro[method.key].append(score([corpus.labels[j] for j in test_idx], got["cv"][0], labels)["macro_f1"])
        reports[method.key]["cv"] = score(corpus.labels, oof, labels)  # type: ignore[arg-type]
        if gold:
            print(f"{method.name}: full corpus → gold sets …", file=sys.stderr)
            context["split"] = "full"
            t0 = time.perf_counter()
            got = method.fit_predict(corpus.texts, corpus.labels, {name: d.texts for name, d in gold.items()}, labels, context)
            fit_seconds[method.key] = time.perf_counter() - t0
            for name, data in gold.items():
                sets, proba = got[name]
                predictions[method.key][name] = sets
                reports[method.key][name] = score(data.labels, sets, labels, data.optional)
                if method.key == "ours":
                    ours_proba[name] = proba

    for method in list(methods):
        try:
            run_method(method)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            if method is not ft_method:
                raise
            notes.append(f"**fastText dropped from the results** (split {context.get('split')}): {str(exc)[-300:]}")
            print(f"fastText failed: {exc}", file=sys.stderr)
            methods.remove(method)
            ft_method = None

    # ------------------------------------------------------------------ report
    sets_order = ["cv", *gold]
    set_titles = {"cv": f"corpus 5-fold CV (n={len(corpus)})", **{k: f"{k} (n={len(d)})" for k, d in gold.items()}}
    body = [
        f"Training data: labels/corpus.csv, {len(corpus)} articles. Cross-validation: sklearn KFold(5, shuffle=True, random_state=0), "
        "the same folds for every method, out-of-fold predictions pooled and scored once (per-fold macro-F1 range in brackets). "
        + ("Gold sets from ../shared via `bench.gold_sets.write_gold_sets()`, every method trained on the whole corpus; " if gold else "")
        + "scores by `training.evaluate.score`, whose `optional` gold tags are neither hit nor miss. "
        "Macro-F1 averages the labels that occur in the gold or were predicted.",
        "",
    ]
    body += [f"- {n}" for n in notes]
    if notes:
        body.append("")
    header = "| method | " + " | ".join(f"{set_titles[s]} macro-F1 | exact-set" for s in sets_order)
    header += " | fit on full corpus, s (1 run; fastText incl. autotune) |" if gold else " |"
    body += [header, "|" + "---|" * (1 + 2 * len(sets_order) + (1 if gold else 0))]
    for m in methods:
        row = f"| {m.name} |"
        for s in sets_order:
            r = reports[m.key][s]
            extra = f" [{min(fold_macro[m.key]):.3f}–{max(fold_macro[m.key]):.3f}]" if s == "cv" else ""
            row += f" {r['macro_f1']:.3f}{extra} | {r['exact_set_accuracy']:.3f} |"
        if gold:
            row += f" {fit_seconds[m.key]:.1f} |"
        body.append(row)
    body.append("")

    if gold:
        body.append("Leader on macro-F1 (95% bootstrap interval over articles, 1,000 resamples):")
        body.append("")
        for s in gold:
            data = gold[s]
            ranked = sorted(methods, key=lambda m: -reports[m.key][s]["macro_f1"])
            parts = []
            for m in ranked:
                lo, hi = bootstrap_macro(data.labels, predictions[m.key][s], data.optional, labels)
                parts.append(f"{m.name} {reports[m.key][s]['macro_f1']:.3f} [{lo:.2f}–{hi:.2f}]")
            best = reports[ranked[0].key][s]["macro_f1"]
            leaders = [m.name for m in ranked if reports[m.key][s]["macro_f1"] == best]
            body.append(f"- **{s}**: leader **{' = '.join(leaders)}** ({best:.3f}); ranking: " + "; ".join(parts))
            some = [lab for lab in labels if reports[methods[0].key][s]["per_label"][lab]["support"] >= 5]
            if len(some) < len(labels):
                robust = {m.key: sum(reports[m.key][s]["per_label"][lab]["f1"] for lab in some) / len(some) for m in methods}
                order = sorted(methods, key=lambda m: -robust[m.key])
                body.append(f"  - {s} without the labels with fewer than 5 gold positives ({', '.join(l for l in labels if l not in some)}), "
                            f"mean F1 over {', '.join(some)}: " + "; ".join(f"{m.name} {robust[m.key]:.3f}" for m in order))
        body.append("")

    for s in sets_order:
        body += [f"### Per label — {set_titles[s]} (P / R / F1; support in the header)", ""]
        support = {lab: reports[methods[0].key][s]["per_label"][lab]["support"] for lab in labels}
        body.append("| method | " + " | ".join(f"{lab} ({support[lab]})" for lab in labels) + " | macro-F1 | micro-F1 | exact-set |")
        body.append("|" + "---|" * (len(labels) + 4))
        for m in methods:
            r = reports[m.key][s]
            body.append(f"| {m.name} | " + " | ".join(_prf(r["per_label"][lab]) for lab in labels)
                        + f" | {r['macro_f1']:.3f} | {r['micro']['f1']:.3f} | {r['exact_set_accuracy']:.3f} |")
        body.append("")

    if gold:
        pooled_gold = [x for d in gold.values() for x in d.labels]
        pooled_opt = [x for d in gold.values() for x in d.optional]
        pooled_proba = np.vstack([ours_proba[name] for name in gold])
        body += ["### Calibration of our pipeline on the gold sets", "",
                 "Probabilities from `predict_proba` (before the tuned thresholds); a label that is `optional` for an article is "
                 "skipped for that article. ECE: 10 equal-width bins, weighted by articles per bin. Small n: a few articles move these figures.", "",
                 "| gold set | label | n | Brier | ECE | mean predicted p | observed rate |", "|---|---|---|---|---|---|---|"]
        for name, data in [*gold.items(), ("pooled", None)]:
            cal = calibration(pooled_proba, pooled_gold, pooled_opt, labels) if data is None else calibration(ours_proba[name], data.labels, data.optional, labels)
            for lab in labels:
                c = cal[lab]
                body.append(f"| {name} | {lab} | {c['n']} | {c['brier']:.3f} | {c['ece']:.3f} | {c['mean_p']:.3f} | {c['rate']:.3f} |")
            if data is None:
                thresholds = context.get("ours_thresholds", {}).get("full", {})
                reliability_plot(cal, labels, thresholds, PLOTS_DIR / "reliability.png")
        body += ["", "Reliability plot (pooled gold articles, one panel per label): `docs/plots/reliability.png`.", ""]

    if ft_method and ft_method.infos:
        full = ft_method.infos.get("full")
        body.append("### fastText settings")
        body.append("")
        body.append(f"- fastText-wheel 0.9.2 with numpy<2 in build/fasttext-venv; input: `training.normalize.normalize_text`, then "
                    "`training.tokenize.tokenize` (jieba dictionary + our legal dictionary, HMM off) joined by spaces; `-loss ova`; "
                    "articles without tags get a pseudo label `__none__` (fastText drops examples with no label) that is ignored at prediction; "
                    "a label is predicted when its probability ≥ 0.5.")
        body.append(f"- autotune: {args.autotune_seconds} s for the full-corpus model, {args.cv_autotune_seconds} s per CV fold, "
                    "metric = fastText's default (F1 of the top prediction) on a random 20% validation split of the training rows; "
                    "the model is then refit with the chosen hyper-parameters on all training rows. The worker's address space is capped at "
                    f"{args.fasttext_memory_gib:g} GiB: autotune samples dim up to 1,000 and bucket up to 10M (tens of GB, which once took 17 GB "
                    "of this 24 GB machine); trials over the cap fail to allocate and autotune skips them.")
        if full:
            body.append(f"- full-corpus model: chosen {json.dumps(full['params'])}; autotune {full['autotune_seconds']} s, refit {full['refit_seconds']} s; "
                        f"model file {FT_MODEL.stat().st_size / 1e6:.0f} MB (`{FT_MODEL.relative_to(REPO_ROOT)}`, reused by bench.throughput)")
        for split, info in sorted(ft_method.infos.items()):
            if info.get("final_model", "all training rows") != "all training rows":
                body.append(f"- {split}: final model = {info['final_model']}")
            if split != "full":
                body.append(f"- {split}: dim {info['params']['dim']}, epoch {info['params']['epoch']}, wordNgrams {info['params']['wordNgrams']}, "
                            f"minn/maxn {info['params']['minn']}/{info['params']['maxn']}, lr {info['params']['lr']:.3f}")
        body.append("")
    publish("accuracy", "Accuracy against the alternatives (`bench.accuracy`)", body, started=started)


if __name__ == "__main__":
    main()
