"""An HTML evaluation report a person can read: where the model is right, how sure, and its worst mistakes.

`write_report(out_dir, …)` writes out_dir/index.html with PNG plots beside it (relative paths, inline
CSS, no scripts, no external assets); `render_report_html(…)` returns the same page as one string
with the plots embedded as data: URIs, for serving it from a web view. Both take the dict of
`training.evaluate.score` and the `Result`s of `Tagger.classify(texts, explain=8)`.

Sections: per-label precision/recall/F1 (bars), gold label × predicted label counts with per-label
TP/FP/FN, a reliability (calibration) plot of the scores, and the worst mistakes: false positives
with the highest scores and false negatives with the lowest, each with its evidence terms and an
excerpt. A label in a document's `optional` set counts neither way, as in `score`.

The numbers and plots are computed here (scikit-learn for the calibration curve and the Brier
score); the HTML is the Jinja2 template training/templates/report.html, autoescaped, so text from
articles can never become markup. matplotlib is imported lazily (Agg backend); without it the page
is written without the PNGs. Plot text is Chinese when matplotlib has a CJK font, English otherwise.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import jinja2
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from .tagger import Result

NONE = "—"  # the "no label" row/column of the gold × predicted table
PLOTS = {"prf": "prf.png", "calibration": "calibration.png"}
EXCERPT_CHARS = 150
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "SimHei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK JP")


# ------------------------------------------------------------------------------------------------
# The numbers


def _counted(label: str, gold: set[str], optional: set[str]) -> bool:
    """Whether (document, label) is scored: an optional tag that is not gold counts neither way."""
    return not (label in optional and label not in gold)


def _optional_list(optional: Sequence[set[str]] | None, n: int) -> list[set[str]]:
    return [set(o) for o in optional] if optional else [set() for _ in range(n)]


def gold_vs_predicted(gold: Sequence[set[str]], predicted: Sequence[set[str]], labels: Sequence[str],
                      optional: Sequence[set[str]] | None = None) -> dict[str, dict[str, int]]:
    """counts[g][p]: documents with gold label g (or NONE) and predicted label p (or NONE).

    A document with gold {A, B} and prediction {A} adds one to [A][A] and one to [B][A]; optional
    tags that are not gold are left out of the prediction, as `score` does.
    """
    optional = _optional_list(optional, len(gold))
    keys = [*labels, NONE]
    counts = {g: {p: 0 for p in keys} for g in keys}
    for g_set, p_set, o_set in zip(gold, predicted, optional):
        g_keys = [g for g in labels if g in g_set] or [NONE]
        p_keys = [p for p in labels if p in p_set and _counted(p, g_set, o_set)] or [NONE]
        for g in g_keys:
            for p in p_keys:
                counts[g][p] += 1
    return counts


def _binned(scores: np.ndarray, truth: np.ndarray, bins: int) -> list[dict[str, Any]]:
    """Equal-width bins of [0, 1]: n, mean score and positive rate of each.

    A bin holds the scores in (lo, hi] (the first also 0), as sklearn's calibration_curve counts them.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    # The bin index exactly as calibration_curve(strategy="uniform") assigns it, for the counts it does not return.
    counts = np.bincount(np.searchsorted(edges[1:-1], scores), minlength=bins) if len(scores) else np.zeros(bins, int)
    filled = iter(())
    if len(scores):
        positive_rate, mean_score = calibration_curve(truth, scores, n_bins=bins, strategy="uniform", pos_label=1)
        filled = iter(zip(mean_score, positive_rate))  # one pair per non-empty bin, in bin order
    out = []
    for b in range(bins):
        mean, rate = next(filled) if counts[b] else (None, None)
        out.append({"lo": round(b / bins, 4), "hi": round((b + 1) / bins, 4), "n": int(counts[b]),
                    "mean_score": None if mean is None else round(float(mean), 4),
                    "positive_rate": None if rate is None else round(float(rate), 4)})
    return out


def calibration(gold: Sequence[set[str]], results: Sequence[Result], labels: Sequence[str],
                optional: Sequence[set[str]] | None = None, bins: int = 10) -> dict[str, Any]:
    """Reliability of the scores over every scored (document, label) pair.

    Returns equal-width bins ({lo, hi, n, mean_score, positive_rate}), the expected calibration
    error (bin-weighted |mean score − positive rate|), the Brier score, and the same bins per label.
    """
    optional = _optional_list(optional, len(gold))
    per_label: dict[str, list[tuple[float, int]]] = {label: [] for label in labels}
    for g_set, o_set, result in zip(gold, optional, results):
        for label in labels:
            if label in result.scores and _counted(label, g_set, o_set):
                per_label[label].append((float(result.scores[label]), int(label in g_set)))

    def arrays(pairs: list[tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
        return np.array([s for s, _ in pairs], dtype=float), np.array([y for _, y in pairs], dtype=int)

    scores, truth = arrays([p for label in labels for p in per_label[label]])
    table = _binned(scores, truth, bins)
    n = len(scores)
    ece = sum(b["n"] / n * abs(b["mean_score"] - b["positive_rate"]) for b in table if b["n"]) if n else 0.0
    brier = float(brier_score_loss(truth, scores, pos_label=1)) if n else 0.0
    return {"bins": table, "n": n, "ece": round(ece, 4), "brier": round(brier, 4),
            "per_label": {label: _binned(*arrays(per_label[label]), bins) for label in labels}}


@dataclass
class Mistake:
    """One wrong (document, label) decision, with what a person needs to judge it."""

    kind: str  # "fp" | "fn"
    index: int
    label: str
    score: float
    gold: list[str]
    predicted: list[str]
    evidence: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    excerpt: str = ""
    excerpt_start: int = 0
    pieces: list[tuple[str, bool]] = field(default_factory=list)  # the excerpt cut at evidence terms


def worst_mistakes(texts: Sequence[str], gold: Sequence[set[str]], results: Sequence[Result], labels: Sequence[str],
                   optional: Sequence[set[str]] | None = None, limit: int = 10) -> dict[str, list[Mistake]]:
    """False positives with the highest scores and false negatives with the lowest, `limit` each.

    A false positive carries the evidence for the wrong label; a false negative carries the
    evidence for the labels the model chose instead (a missed label has no evidence in a Result).
    """
    optional = _optional_list(optional, len(gold))
    fps: list[Mistake] = []
    fns: list[Mistake] = []
    for i, (text, g_set, o_set, result) in enumerate(zip(texts, gold, optional, results)):
        chosen = set(result.labels)
        explain = result.explain or {}
        for label in labels:
            if not _counted(label, g_set, o_set):
                continue
            score = float(result.scores.get(label, 0.0))
            common = dict(index=i, label=label, score=score, gold=[x for x in labels if x in g_set], predicted=list(result.labels))
            if label in chosen and label not in g_set:
                fps.append(Mistake("fp", evidence={label: explain.get(label, [])}, **common))
            elif label in g_set and label not in chosen:
                fns.append(Mistake("fn", evidence={x: explain.get(x, []) for x in result.labels}, **common))
    fps.sort(key=lambda m: (-m.score, m.index))
    fns.sort(key=lambda m: (m.score, m.index))
    out = {"false_positives": fps[:limit], "false_negatives": fns[:limit]}
    for mistake in out["false_positives"] + out["false_negatives"]:
        mistake.excerpt_start, mistake.excerpt = _excerpt(texts[mistake.index], _terms(mistake.evidence))
        mistake.pieces = _pieces(mistake.excerpt, _terms(mistake.evidence))
    return out


def _terms(evidence: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Evidence terms, strongest first, without repeats."""
    items = sorted((e for items in evidence.values() for e in items), key=lambda e: -float(e.get("weight", 0)))
    seen: list[str] = []
    for e in items:
        term = str(e.get("term", ""))
        if term.strip() and term not in seen:
            seen.append(term)
    return seen


def _occurrences(text: str, term: str) -> list[tuple[int, int]]:
    """[start, end) of each occurrence of an evidence term; "<num>" (the tokenizer's digit run) matches digits."""
    if not term.strip():
        return []
    if "<num>" in term:
        pattern = re.compile("[0-9０-９]+".join(re.escape(part) for part in term.split("<num>")), re.I)
        return [(m.start(), m.end()) for m in pattern.finditer(text)]
    lowered, needle = text.lower(), term.lower()
    found, at = [], lowered.find(needle)
    while at >= 0:
        found.append((at, at + len(needle)))
        at = lowered.find(needle, at + 1)
    return found


def _excerpt(text: str, terms: Sequence[str], size: int = EXCERPT_CHARS) -> tuple[int, str]:
    """About `size` characters of text around the first place the strongest term occurs."""
    text = text.strip()
    at = -1
    for term in terms:
        hits = _occurrences(text, term)
        if hits:
            at = hits[0][0]
            break
    start = 0 if at < 0 else max(0, min(at - size // 3, len(text) - size))
    return start, text[start:start + size]


# ------------------------------------------------------------------------------------------------
# Helpers for the template


def _f(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) and not math.isnan(value) else "—"


def _pct(value: Any) -> float:
    """A bar's width in percent: value clamped to [0, 1]."""
    return max(0.0, min(1.0, float(value or 0))) * 100


def _pieces(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """text cut into (piece, is an evidence term) runs: the template marks the runs (ranges, never regex on HTML)."""
    covered = [False] * len(text)
    for term in terms:
        for start, end in _occurrences(text, term):
            for k in range(start, end):
                covered[k] = True
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and covered[j] == covered[i]:
            j += 1
        out.append((text[i:j], covered[i]))
        i = j
    return out


def _label_names(labels: Sequence[str], given: Mapping[str, str] | None) -> dict[str, str]:
    names = dict(given or {})
    if not all(label in names for label in labels):
        try:
            from .config import get_settings
            from .taxonomy import load_taxonomy

            for label in load_taxonomy(get_settings().taxonomy_path):
                names.setdefault(label.id, label.name)
        except Exception:  # noqa: BLE001 - the report works with ids alone
            pass
    return {label: names.get(label, label) for label in labels}


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """Templates shipped in training/templates/; every {{ value }} is HTML-escaped."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["f"] = _f
    env.filters["pct"] = _pct
    return env


# ------------------------------------------------------------------------------------------------
# Plots (matplotlib, Agg, imported only here)

# Plot text: Chinese when matplotlib can draw it, English otherwise (no tofu boxes).
PLOT_TEXT = {
    "zh": {"score": "分数", "prf": "各标签 P / R / F1（macro-F1 {macro:.3f}，n={n}）", "diagonal": "完全校准",
           "all": "全部标签", "positive_rate": "实际为正的比例", "reliability": "可靠性（ECE {ece:.3f}，Brier {brier:.3f}，{pairs} 对）",
           "predicted": "预测分数", "pairs": "对数", "P": "精确率", "R": "召回率", "F1": "F1"},
    "en": {"score": "score", "prf": "per-label P / R / F1   (macro-F1 {macro:.3f}, n={n})", "diagonal": "perfectly calibrated",
           "all": "all labels", "positive_rate": "observed positive rate", "reliability": "reliability   (ECE {ece:.3f}, Brier {brier:.3f}, pairs {pairs})",
           "predicted": "predicted score", "pairs": "pairs", "P": "P", "R": "R", "F1": "F1"},
}


@functools.lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """A CJK font matplotlib can use, or None. Fonts installed after matplotlib built its font
    cache are missing from it: add them and rewrite the cache, then look again."""
    from matplotlib import font_manager

    def pick() -> str | None:
        available = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in available), None)

    found = pick()
    if found:
        return found
    known = {f.fname for f in font_manager.fontManager.ttflist}
    missing = [path for path in font_manager.findSystemFonts() if path not in known]
    for path in missing:
        try:
            font_manager.fontManager.addfont(path)
        except Exception:  # noqa: BLE001 - an unreadable font file is skipped, as matplotlib does
            continue
    if missing:
        try:
            import matplotlib

            cache = Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
            font_manager.json_dump(font_manager.fontManager, cache)
        except Exception:  # noqa: BLE001 - a read-only cache directory: this process still has the fonts
            pass
    return pick()


def render_plots(report: dict, calib: dict, labels: Sequence[str], names: Mapping[str, str]) -> dict[str, bytes]:
    """{"prf": PNG bytes, "calibration": PNG bytes}; {} when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return {}
    matplotlib.use("Agg", force=True)
    import io

    import matplotlib.pyplot as plt

    font = _cjk_font()
    text = PLOT_TEXT["zh" if font else "en"]
    style = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}
    tick = [f"{names.get(l, l)}\n{l}" if font and names.get(l, l) != l else l for l in labels]
    out: dict[str, bytes] = {}
    with plt.rc_context(style):
        # Per-label precision / recall / F1.
        fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=120)
        width = 0.26
        colours = {"precision": "#1d4ed8", "recall": "#047857", "f1": "#8b1a1a"}
        for k, metric in enumerate(("precision", "recall", "f1")):
            values = [report["per_label"].get(l, {}).get(metric, 0.0) for l in labels]
            xs = [i + (k - 1) * width for i in range(len(labels))]
            bars = ax.bar(xs, values, width, label=text[{"precision": "P", "recall": "R", "f1": "F1"}[metric]], color=colours[metric])
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        ax.set_xticks(range(len(labels)), tick, fontsize=8)
        ax.set_ylim(0, 1.12)
        ax.set_ylabel(text["score"])
        ax.set_title(text["prf"].format(macro=report.get("macro_f1", 0), n=report.get("n", 0)), fontsize=10)
        ax.legend(loc="lower right", fontsize=8, ncols=3)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        out["prf"] = buf.getvalue()

        # Reliability diagram with the score histogram below.
        fig, (ax, hist) = plt.subplots(2, 1, figsize=(6, 5.6), dpi=120, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        ax.plot([0, 1], [0, 1], ls="--", color="#9aa4ae", lw=1, label=text["diagonal"])
        palette = ["#1d4ed8", "#b91c1c", "#047857", "#b45309", "#7c3aed", "#0e7490", "#be185d", "#475569"]
        for k, label in enumerate(labels):
            pts = [(b["mean_score"], b["positive_rate"]) for b in calib["per_label"][label] if b["n"]]
            if pts:
                ax.plot(*zip(*pts), marker=".", lw=0.8, alpha=0.55, color=palette[k % len(palette)],
                        label=names.get(label, label) if font else label)
        pooled = [b for b in calib["bins"] if b["n"]]
        if pooled:
            total = max(b["n"] for b in pooled)
            ax.plot([b["mean_score"] for b in pooled], [b["positive_rate"] for b in pooled], color="#111", lw=1.8, zorder=3)
            ax.scatter([b["mean_score"] for b in pooled], [b["positive_rate"] for b in pooled],
                       s=[20 + 180 * b["n"] / total for b in pooled], color="#111", zorder=4, label=text["all"])
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(text["positive_rate"])
        ax.set_title(text["reliability"].format(ece=calib["ece"], brier=calib["brier"], pairs=calib["n"]), fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
        ax.spines[["top", "right"]].set_visible(False)
        edges = [b["lo"] for b in calib["bins"]]
        step = calib["bins"][0]["hi"] - calib["bins"][0]["lo"] if calib["bins"] else 0.1
        hist.bar(edges, [b["n"] for b in calib["bins"]], width=step, align="edge", color="#9aa4ae", edgecolor="white")
        hist.set_yscale("symlog")
        hist.set_xlabel(text["predicted"])
        hist.set_ylabel(text["pairs"])
        hist.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        out["calibration"] = buf.getvalue()
    return out


# ------------------------------------------------------------------------------------------------
# The page


def _summary_cards(report: dict, calib: dict) -> list[tuple[str, str]]:
    micro = report.get("micro", {})
    return [
        ("macro-F1", _f(report.get("macro_f1"))),
        ("micro-F1", _f(micro.get("f1"))),
        ("micro P / R", f"{_f(micro.get('precision'), 2)} / {_f(micro.get('recall'), 2)}"),
        ("整组完全正确", _f(report.get("exact_set_accuracy"))),
        ("ECE（校准误差）", _f(calib["ece"])),
        ("Brier", _f(calib["brier"])),
        ("文档数", str(report.get("n", 0))),
    ]


def _confusion(counts: dict[str, dict[str, int]], labels: Sequence[str], names: Mapping[str, str]) -> dict[str, Any]:
    return {"order": [*labels, NONE], "titles": {**names, NONE: "无标签"}, "counts": counts,
            "top": max((v for row in counts.values() for v in row.values()), default=0) or 1}


def render_report_html(
    texts: Sequence[str],
    gold: Sequence[set[str]],
    optional: Sequence[set[str]] | None,
    results: Sequence[Result],
    labels: Sequence[str],
    report: dict,
    label_names: Mapping[str, str] | None = None,
    title: str = "",
    thresholds: Mapping[str, float] | None = None,
    images: Mapping[str, str] | None = None,
) -> str:
    """The report page as one string.

    `images` maps "prf" / "calibration" to an image URL (write_report passes the relative file
    names); when it is None the plots are rendered now and embedded as data: URIs, so the string
    is a complete page for an HTTP response.
    """
    if not (len(texts) == len(gold) == len(results)):
        raise ValueError(f"{len(texts)} texts, {len(gold)} gold sets and {len(results)} results: they must match")
    labels = list(labels)
    names = _label_names(labels, label_names)
    optional = _optional_list(optional, len(gold))
    predicted = [set(r.labels) for r in results]
    calib = calibration(gold, results, labels, optional)
    counts = gold_vs_predicted(gold, predicted, labels, optional)
    mistakes = worst_mistakes(texts, gold, results, labels, optional)
    if images is None:
        images = {k: "data:image/png;base64," + base64.b64encode(v).decode("ascii")
                  for k, v in render_plots(report, calib, labels, names).items()}
    title = title or f"评估报告{(' · 模型 ' + str(report['model'])) if report.get('model') else ''}"
    subtitle = [x for x in (
        f"模型 {report['model']}" if report.get("model") else "",
        f"数据 sha256 {str(report['file_sha256'])[:12]}…" if report.get("file_sha256") else "",
        "可选标签（optional）既不算对也不算错",
    ) if x]
    return _environment().get_template("report.html").render(
        title=title, subtitle=subtitle, cards=_summary_cards(report, calib), report=report, labels=labels, names=names,
        thresholds=thresholds or {}, images=dict(images), confusion=_confusion(counts, labels, names), calib=calib,
        mistakes=mistakes,
    )


def write_report(
    out_dir: Path,
    texts: list[str],
    gold: list[set[str]],
    optional: list[set[str]],
    results: list[Result],
    labels: list[str],
    report: dict,
    label_names: dict[str, str] | None = None,
    title: str = "",
    thresholds: Mapping[str, float] | None = None,
) -> Path:
    """Write out_dir/index.html and its PNG plots (prf.png, calibration.png); return the index path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = list(labels)
    names = _label_names(labels, label_names)
    calib = calibration(gold, results, labels, optional)
    images = {}
    for key, png in render_plots(report, calib, labels, names).items():
        (out_dir / PLOTS[key]).write_bytes(png)
        images[key] = PLOTS[key]
    page = render_report_html(texts, gold, optional, results, labels, report, names, title, thresholds, images=images)
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
