"""An HTML evaluation report a person can read: where the model is right, how sure, and its worst mistakes.

`write_report(out_dir, …)` writes out_dir/index.html with PNG plots beside it (relative paths, inline
CSS, no scripts, no external assets); `render_report_html(…)` returns the same page as one string
with the plots embedded as data: URIs, for serving it from a web view. Both take the dict of
`training.evaluate.score` and the `Result`s of `Tagger.classify(texts, explain=8)`.

Sections: per-label precision/recall/F1 (bars), gold label × predicted label counts with per-label
TP/FP/FN, a reliability (calibration) plot of the scores, and the worst mistakes: false positives
with the highest scores and false negatives with the lowest, each with its evidence terms and an
excerpt. A label in a document's `optional` set counts neither way, as in `score`.

matplotlib is imported lazily (Agg backend); without it the page is written without the PNGs.
"""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

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


def calibration(gold: Sequence[set[str]], results: Sequence[Result], labels: Sequence[str],
                optional: Sequence[set[str]] | None = None, bins: int = 10) -> dict[str, Any]:
    """Reliability of the scores over every scored (document, label) pair.

    Returns equal-width bins ({lo, hi, n, mean_score, positive_rate}), the expected calibration
    error (bin-weighted |mean score − positive rate|), the Brier score, and the same bins per label.
    """
    optional = _optional_list(optional, len(gold))

    def binned(pairs: list[tuple[float, int]]) -> list[dict[str, Any]]:
        out = []
        for b in range(bins):
            lo, hi = b / bins, (b + 1) / bins
            inside = [(s, y) for s, y in pairs if lo <= s < hi or (b == bins - 1 and s == 1.0)]
            out.append({
                "lo": round(lo, 4), "hi": round(hi, 4), "n": len(inside),
                "mean_score": round(sum(s for s, _ in inside) / len(inside), 4) if inside else None,
                "positive_rate": round(sum(y for _, y in inside) / len(inside), 4) if inside else None,
            })
        return out

    per_label: dict[str, list[tuple[float, int]]] = {label: [] for label in labels}
    for g_set, o_set, result in zip(gold, optional, results):
        for label in labels:
            if label in result.scores and _counted(label, g_set, o_set):
                per_label[label].append((float(result.scores[label]), int(label in g_set)))
    pairs = [p for label in labels for p in per_label[label]]
    table = binned(pairs)
    n = len(pairs)
    ece = sum(b["n"] / n * abs(b["mean_score"] - b["positive_rate"]) for b in table if b["n"]) if n else 0.0
    brier = sum((s - y) ** 2 for s, y in pairs) / n if n else 0.0
    return {"bins": table, "n": n, "ece": round(ece, 4), "brier": round(brier, 4),
            "per_label": {label: binned(per_label[label]) for label in labels}}


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
# HTML helpers


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _f(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) and not math.isnan(value) else "—"


def _marked(text: str, terms: Sequence[str]) -> str:
    """text escaped, with every occurrence of a term wrapped in <mark> (ranges, never regex on HTML)."""
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
        piece = _e(text[i:j])
        out.append(f"<mark>{piece}</mark>" if covered[i] else piece)
        i = j
    return "".join(out)


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


def _bar(value: float, css: str) -> str:
    width = max(0.0, min(1.0, float(value or 0))) * 100
    return f'<span class="bar"><span class="fill {css}" style="width:{width:.1f}%"></span></span>'


CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#1f2328;
max-width:1100px;margin:0 auto;padding:16px;line-height:1.55;background:#fff;overflow-wrap:anywhere}
h1{font-size:1.5rem;margin:.2em 0}h2{font-size:1.2rem;border-bottom:2px solid #8b1a1a;padding-bottom:.2em;margin-top:1.8em}
.sub{color:#5f6b76;margin:0 0 .8em}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{border:1px solid #d7dde3;border-radius:8px;padding:8px 14px;min-width:8.5em}.card b{display:block;font-size:1.35rem}
.card span{color:#5f6b76;font-size:.85rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.92rem;margin:8px 0}th,td{border:1px solid #d7dde3;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f4f6f8}td.l,th.l{text-align:left}
.bar{display:inline-block;width:90px;height:9px;background:#e3e7ec;border-radius:5px;position:relative;vertical-align:middle;margin-right:6px}
.fill{position:absolute;left:0;top:0;bottom:0;border-radius:5px}.p{background:#1d4ed8}.r{background:#047857}.f{background:#8b1a1a}
td.hit{font-weight:700}td.z{color:#aab2bb}
img{max-width:100%;height:auto;border:1px solid #eef1f4;border-radius:6px}
.note{color:#5f6b76;font-size:.88rem}
.mistake{border:1px solid #d7dde3;border-left:4px solid #b42318;border-radius:6px;padding:8px 12px;margin:10px 0}
.mistake.fn{border-left-color:#b45309}.mistake h3{font-size:1rem;margin:0 0 4px}
.mistake .meta{font-size:.85rem;color:#5f6b76}.excerpt{background:#f7f8fa;padding:6px 8px;border-radius:4px;margin:6px 0;white-space:pre-wrap}
mark{background:#fef3c7;border-bottom:2px solid #b45309;padding:0 1px}
.terms{font-size:.88rem}.terms code{background:#f4f6f8;padding:0 4px;border-radius:3px;margin-right:4px}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots figure{margin:0;flex:1 1 420px;min-width:0}
figcaption{font-size:.85rem;color:#5f6b76}
"""


# ------------------------------------------------------------------------------------------------
# Plots (matplotlib, Agg, imported only here)


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in available), None)


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
            bars = ax.bar(xs, values, width, label={"precision": "P", "recall": "R", "f1": "F1"}[metric], color=colours[metric])
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        ax.set_xticks(range(len(labels)), tick, fontsize=8)
        ax.set_ylim(0, 1.12)
        ax.set_ylabel("score")
        ax.set_title(f"per-label P / R / F1   (macro-F1 {report.get('macro_f1', 0):.3f}, n={report.get('n', 0)})", fontsize=10)
        ax.legend(loc="lower right", fontsize=8, ncols=3)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        out["prf"] = buf.getvalue()

        # Reliability diagram with the score histogram below.
        fig, (ax, hist) = plt.subplots(2, 1, figsize=(6, 5.6), dpi=120, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        ax.plot([0, 1], [0, 1], ls="--", color="#9aa4ae", lw=1, label="perfectly calibrated")
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
                       s=[20 + 180 * b["n"] / total for b in pooled], color="#111", zorder=4, label="all labels")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("observed positive rate")
        ax.set_title(f"reliability   (ECE {calib['ece']:.3f}, Brier {calib['brier']:.3f}, pairs {calib['n']})", fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
        ax.spines[["top", "right"]].set_visible(False)
        edges = [b["lo"] for b in calib["bins"]]
        step = calib["bins"][0]["hi"] - calib["bins"][0]["lo"] if calib["bins"] else 0.1
        hist.bar(edges, [b["n"] for b in calib["bins"]], width=step, align="edge", color="#9aa4ae", edgecolor="white")
        hist.set_yscale("symlog")
        hist.set_xlabel("predicted score")
        hist.set_ylabel("pairs")
        hist.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        out["calibration"] = buf.getvalue()
    return out


# ------------------------------------------------------------------------------------------------
# The page


def _summary_cards(report: dict, calib: dict) -> str:
    micro = report.get("micro", {})
    cards = [
        ("macro-F1", _f(report.get("macro_f1"))),
        ("micro-F1", _f(micro.get("f1"))),
        ("micro P / R", f"{_f(micro.get('precision'), 2)} / {_f(micro.get('recall'), 2)}"),
        ("整组完全正确", _f(report.get("exact_set_accuracy"))),
        ("ECE（校准误差）", _f(calib["ece"])),
        ("Brier", _f(calib["brier"])),
        ("文档数", str(report.get("n", 0))),
    ]
    return '<div class="cards">' + "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for k, v in cards) + "</div>"


def _per_label_table(report: dict, labels: Sequence[str], names: Mapping[str, str], thresholds: Mapping[str, float] | None) -> str:
    head = "<tr><th class=l>标签</th><th class=l>精确率 P</th><th class=l>召回率 R</th><th class=l>F1</th><th>支持数</th><th>TP</th><th>FP</th><th>FN</th>"
    head += "<th>阈值</th></tr>" if thresholds else "</tr>"
    rows = []
    for label in labels:
        m = report["per_label"].get(label, {})
        cells = [f'<td class=l>{_e(names[label])} <span class=note>{_e(label)}</span></td>']
        for key, css in (("precision", "p"), ("recall", "r"), ("f1", "f")):
            cells.append(f"<td class=l>{_bar(m.get(key, 0), css)}{_f(m.get(key))}</td>")
        cells += [f"<td>{m.get(k, 0)}</td>" for k in ("support", "tp", "fp", "fn")]
        if thresholds:
            cells.append(f"<td>{_f(thresholds.get(label), 2)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table class="per-label">{head}{"".join(rows)}</table></div>'


def _confusion_table(counts: dict[str, dict[str, int]], labels: Sequence[str], names: Mapping[str, str]) -> str:
    keys = [*labels, NONE]
    title = {**names, NONE: "无标签"}
    top = max((v for row in counts.values() for v in row.values()), default=0) or 1
    head = '<tr><th class=l>金标 ＼ 预测</th>' + "".join(f"<th>{_e(title[k])}</th>" for k in keys) + "</tr>"
    rows = []
    for g in keys:
        cells = []
        for p in keys:
            v = counts[g][p]
            alpha = 0.08 + 0.5 * v / top if v else 0
            hue = "4,120,87" if g == p else "180,35,24"
            style = f' style="background:rgba({hue},{alpha:.2f})"' if v else ""
            css = "hit" if g == p and v else ("z" if not v else "")
            cells.append(f'<td class="{css}"{style}>{v}</td>')
        rows.append(f'<tr><th class=l>{_e(title[g])}</th>{"".join(cells)}</tr>')
    return f'<div class="scroll"><table class="confusion">{head}{"".join(rows)}</table></div>'


def _calibration_table(calib: dict) -> str:
    rows = "".join(
        f"<tr><td>{b['lo']:.1f}–{b['hi']:.1f}</td><td>{b['n']}</td><td>{_f(b['mean_score'])}</td><td>{_f(b['positive_rate'])}</td></tr>"
        for b in calib["bins"] if b["n"]
    )
    return ('<div class="scroll"><table class="calibration"><tr><th>分数区间</th><th>对数</th><th>平均分数</th><th>实际为正的比例</th></tr>'
            f"{rows}</table></div>")


def _mistake_html(m: Mistake, names: Mapping[str, str], thresholds: Mapping[str, float] | None) -> str:
    what = "误标（FP）" if m.kind == "fp" else "漏标（FN）"
    cut = f"，阈值 {_f(thresholds[m.label], 2)}" if thresholds and m.label in thresholds else ""
    gold = "、".join(names.get(x, x) for x in m.gold) or "无标签"
    predicted = "、".join(names.get(x, x) for x in m.predicted) or "无标签"
    terms = _terms(m.evidence)
    if m.kind == "fp":
        ev_title = f"把分数推向“{names.get(m.label, m.label)}”的证据词"
    else:
        ev_title = "模型改判的标签及其证据词" if m.predicted else "模型未给出任何标签"
    evidence_rows = []
    for label, items in m.evidence.items():
        if items:
            words = "".join(f'<code title="{_e(i.get("kind", ""))} {_f(i.get("weight"), 3)}">{_e(str(i.get("term", "")).replace("<num>", "〈数字〉"))}</code>' for i in items)
            evidence_rows.append(f"<div><b>{_e(names.get(label, label))}：</b>{words}</div>")
        elif m.kind == "fp":
            evidence_rows.append('<div class=note>（没有证据词：用 Tagger.classify(…, explain=8) 计算）</div>')
    prefix = "…" if m.excerpt_start > 0 else ""
    return (
        f'<div class="mistake {m.kind}"><h3>#{m.index + 1} · {_e(what)} {_e(names.get(m.label, m.label))} '
        f'<span class=note>{_e(m.label)}</span> · 分数 {_f(m.score)}{_e(cut)}</h3>'
        f'<div class="meta">金标：{_e(gold)}　预测：{_e(predicted)}</div>'
        f'<div class="excerpt">{prefix}{_marked(m.excerpt, terms)}…</div>'
        f'<div class="terms"><span class=note>{_e(ev_title)}</span>{"".join(evidence_rows)}</div></div>'
    )


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

    def figure(key: str, caption: str) -> str:
        if key not in images:
            return f'<p class="note">（{_e(caption)}：未生成图片，需要安装 matplotlib）</p>'
        return f'<figure><img src="{_e(images[key])}" alt="{_e(caption)}"><figcaption>{_e(caption)}</figcaption></figure>'

    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        '<p class="sub">' + "　".join(_e(x) for x in (
            f"模型 {report['model']}" if report.get("model") else "",
            f"数据 sha256 {str(report['file_sha256'])[:12]}…" if report.get("file_sha256") else "",
            "可选标签（optional）既不算对也不算错",
        ) if x) + "</p>",
        _summary_cards(report, calib),
        '<h2 id="per-label">各标签精确率 / 召回率 / F1</h2>',
        _per_label_table(report, labels, names, thresholds),
        '<div class="plots">' + figure("prf", "各标签 P / R / F1") + "</div>",
        '<h2 id="confusion">金标 × 预测（文档数）</h2>',
        '<p class="note">行是金标标签，列是预测标签；一篇有两个金标的文档在两行各计一次。对角线为命中，'
        "“无标签”列是整篇一个标签也没给出，“无标签”行是金标为空却给出了标签。</p>",
        _confusion_table(counts, labels, names),
        '<h2 id="calibration">分数校准（可靠性图）</h2>',
        '<p class="note">把每个（文档，标签）的分数分成十档：曲线越贴近对角线，分数越能当作概率来读。</p>',
        '<div class="plots">' + figure("calibration", "可靠性图与分数分布") + "</div>",
        _calibration_table(calib),
        '<h2 id="mistakes">最严重的错误</h2>',
        f'<h3>误标：分数最高的 {len(mistakes["false_positives"])} 个</h3>',
        "".join(_mistake_html(m, names, thresholds) for m in mistakes["false_positives"]) or '<p class="note">没有误标。</p>',
        f'<h3>漏标：分数最低的 {len(mistakes["false_negatives"])} 个</h3>',
        "".join(_mistake_html(m, names, thresholds) for m in mistakes["false_negatives"]) or '<p class="note">没有漏标。</p>',
        "</body></html>",
    ]
    return "\n".join(parts)


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
