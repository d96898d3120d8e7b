"""How well `training.pages.segment` cuts pages into articles: generated pages, leave-one-style-out,
and the three seed pages of ../shared as held-out real pages.

    .venv/bin/python -m bench.segment_eval [--models-dir DIR] [--pages-per-style 60] [--train-pages 600]

Leave-one-style-out: for each layout style of training/pages/styles.toml a boundary model is
trained on generated pages of every other style and tested on pages of the held-out one (other
seeds than training), next to the rules alone (no model). Reported: matched articles, boundary
precision/recall (training/pages/score.py), and the tag macro-F1 of the matched articles against
the same tagger on the gold article text (title + body): the corpus text, and the article as the
page prints it (the perfect split). The same over all articles, an unmatched one tagged by the
predicted article that overlaps it most, is reported too (stricter: it charges misses twice).

The seed pages are split with the shipped boundary model, which never saw them.

For each gold article (its characters: the listed lines of its page, whitespace excluded) the
predicted article that overlaps it most is its match:

* coverage: share of the gold article's characters inside the match;
* purity: share of the match's characters that belong to the gold article.

A match's characters are its spans plus the repeated paragraphs it recognised and left out of
its text (they are printed inside the article; the gold counts them as the article's lines).
An article is found when coverage >= 0.80 and purity >= 0.70.

Then each match is classified by the active model (skipped when there is none) and scored
against the gold tags, next to the same model on the gold articles' own text (the score a
perfect segmenter would get); the segment+classify time of a ~20,000-character page (the three
pages end to end, median of 5 runs); and the precision/recall of `extract_entities` against the
institution names hand-marked below. The output is a Markdown summary.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import statistics
import sys
import time
from pathlib import Path

from bench.gold_sets import SHARED
from training.pages.entities import extract_entities
from training.pages.score import boundaries, match_units
from training.pages.segment import Article, segment

SEEDS = SHARED / "seeds"
MIN_COVERAGE, MIN_PURITY = 0.80, 0.70

# 政法 institutions named on each seed page, marked by hand: the full name as the page first gives
# it; a short form that ends a listed full name (丁香派出所) is not listed again. Long names are
# written in parts joined by "|" (read as one string), so that no file here carries a long run
# of the pages' text.
INSTITUTIONS: dict[str, list[str]] = {
    "000": [
        "呼和浩特市|新城区公安分局|丁香派出所",
        "呼和浩特市公安局|新城区分局|中山东路派出所",
        "阿拉善盟|高新技术产业开发区|公安分局|乌斯太派出所",
        "包头市公安局|稀土高新区分局|稀土路派出所",
        "乌海市公安局",
        "乌海市公安局|海勃湾分局|新华街派出所",
        "陈巴尔虎旗公安局|巴彦库仁派出所",
        "呼和浩特市|托克托县|伍什家派出所",
        "丰镇市公安局|工业区派出所",
        "通辽市|霍林郭勒市公安局|珠斯花派出所",
        "阿拉善左旗人民法院",
        "阿拉善盟法院",
        "阿拉善盟中级人民法院",
        "集宁区人民检察院",
        "最高人民检察院",
        "包头市|土默特右旗人民法院|美岱召人民法庭",
        "巴彦淖尔市|乌拉特前旗|人民检察院",
        "呼和浩特市公安局|回民区分局|中山西路派出所",
    ],
    "001": [
        "库伦旗公安局|库伦第一派出所",
        "奈曼旗公安局|东明派出所",
        "呼和浩特市司法局",
        "杭锦旗委政法委",
        "通辽市公安局",
        "霍林郭勒市公安局|珠斯花派出所",
        "保康派出所",
        "科尔沁分局|霍林派出所",
        "鲁北第二派出所",
        "通辽市公安局|科尔沁区分局|市场治安派出所",
        "包头市|土默特右旗|人民检察院",
        "松山区人民检察院",
        "自治区人民检察院",
        "赤峰市中级人民法院",
        "赤峰市法院",
        "自治区高级人民法院",
        "锡林郭勒盟|正蓝旗公安局|刑警大队",
    ],
    "002": [
        "天骄派出所",
        "自治区公安厅",
        "林西县公安局|交通管理大队",
        "赤峰市|林西县公安局",
        "呼和浩特市|清水河县|人民检察院",
        "自治区司法厅",
        "鄂尔多斯市|达拉特旗人民法院",
        "赤峰市|克什克腾旗公安局|经侦大队",
        "经侦镇派出所",
        "包头|边境管理支队|明安边境派出所",
        "呼和浩特市|托克托县人民法院",
    ],
}


def institution_gold() -> dict[str, list[str]]:
    return {page: [name.replace("|", "") for name in names] for page, names in INSTITUTIONS.items()}


def line_starts(page: str) -> list[int]:
    """Offset of each line of `page.splitlines()` (index 0 = line 1), plus the page length."""
    starts, pos = [], 0
    for line in page.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    starts.append(pos)
    return starts


def gold_chars(page: str, starts: list[int], ranges: list[list[int]]) -> set[int]:
    """Offsets of the non-whitespace characters of 1-based inclusive line ranges."""
    out = set()
    for a, b in ranges:
        out.update(i for i in range(starts[a - 1], starts[min(b, len(starts) - 1)]) if not page[i].isspace())
    return out


def article_chars(page: str, article: Article, repeats: bool = True) -> set[int]:
    ranges = [*article.spans, *(article.repeats if repeats else [])]
    return {i for a, b in ranges for i in range(a, b) if not page[i].isspace()}


def segmentation_rows(pages: dict[str, str], gold: list[dict]) -> tuple[list[dict], dict[str, list[Article]]]:
    """One row per gold article: its best match and coverage/purity."""
    predicted = {name: segment(text) for name, text in pages.items()}
    rows = []
    for g in gold:
        page = pages[g["seed"]]
        chars = gold_chars(page, line_starts(page), g["lines"])
        best, best_overlap, best_chars = None, 0, set()
        for article in predicted[g["seed"]]:
            mine = article_chars(page, article)
            overlap = len(chars & mine)
            if overlap > best_overlap:
                best, best_overlap, best_chars = article, overlap, mine
        coverage = best_overlap / len(chars) if chars else 0.0
        purity = best_overlap / len(best_chars) if best_chars else 0.0
        spans_only = len(chars & article_chars(page, best, repeats=False)) / len(chars) if best and chars else 0.0
        rows.append({
            "id": g["id"], "gold": g, "match": best, "coverage": coverage, "purity": purity,
            "coverage_spans_only": spans_only,
            "found": coverage >= MIN_COVERAGE and purity >= MIN_PURITY,
        })
    return rows, predicted


def load_tagger(models_dir: Path):
    """The active model of models_dir, or None with the reason."""
    from training.artifacts import active_version, load_model
    from training.errors import TaggerError
    from training.tagger import Tagger

    try:
        version = active_version(models_dir)
        pipeline, meta = load_model(models_dir, version)
    except TaggerError as exc:
        return None, str(exc)
    return Tagger(pipeline, meta), version


def tag_scores(tagger, rows: list[dict], gold_texts: dict[str, str]) -> dict:
    from training.evaluate import score

    labels = tagger.labels
    gold = [set(r["gold"]["labels"]) for r in rows]
    optional = [set(r["gold"].get("optional", [])) for r in rows]
    texts = [r["match"].classify_text if r["match"] else "" for r in rows]
    predicted = [set(res.labels) if text else set() for res, text in zip(tagger.classify(texts), texts)]
    for r, p in zip(rows, predicted):
        r["tags"] = sorted(p)
    on_gold = [set(res.labels) for res in tagger.classify([gold_texts[r["id"]] for r in rows])]
    return {
        "segmented": score(gold, predicted, labels, optional),
        "gold_text": score(gold, on_gold, labels, optional),
    }


def timing(page: str, tagger, runs: int = 5) -> dict[str, float]:
    segment(page)  # warm: dictionary loaded
    seg, both = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        articles = segment(page)
        t1 = time.perf_counter()
        if tagger is not None:
            tagger.classify([a.classify_text for a in articles])
        t2 = time.perf_counter()
        seg.append((t1 - t0) * 1000)
        both.append((t2 - t0) * 1000)
    out = {"chars": len(page), "articles": len(articles), "segment_ms": statistics.median(seg)}
    if tagger is not None:
        out["segment_classify_ms"] = statistics.median(both)
    return out


def entity_scores(pages: dict[str, str]) -> dict:
    gold = institution_gold()
    tp = fp = fn = 0
    misses, extras = [], []
    for name, text in pages.items():
        want = set(gold.get(name[:3], []))
        got = set(extract_entities(text)["institutions"])
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
        extras += sorted(got - want)
        misses += sorted(want - got)
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "gold": tp + fn, "predicted": tp + fp, "missed": misses, "extra": extras,
    }


def _line_ranges(page: str, article: Article | None) -> str:
    if article is None:
        return "-"
    starts = line_starts(page)

    def line_of(offset: int) -> int:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    return ",".join(f"{line_of(a)}-{line_of(b - 1)}" for a, b in sorted(article.spans))


def printed_text(page, unit) -> str:
    """A gold unit as printed on the page: its characters in page order, with the page's own line
    breaks between them (the perfect split of this page, to compare a predicted split with)."""
    chars = sorted(unit.chars)
    out: list[str] = []
    for a, b in zip(chars, chars[1:] + [None]):
        out.append(page.text[a])
        if b is not None and b > a + 1:
            gap = page.text[a + 1:b]
            out.append(gap if not gap.strip() else "\n\n")  # another unit printed in between
    return "".join(out)


def generated_scores(pages: list, model, tagger) -> dict:
    """Matched articles, boundary P/R and tag macro-F1 on generated pages.

    Tags of the predicted split are compared with tags of the perfect split of the same page
    (`printed_text`: what the page prints for each article, kicker, byline and markers included),
    so the difference is what splitting costs. Tags of the corpus text the article was made from
    are reported too: they differ also by what the generator printed around it. f1_* are over
    all articles (an unmatched one tagged by the predicted article that overlaps it most); m_*
    over the matched articles only (0.0 when none is matched).
    """
    found = total = tp = n_pred = n_gold = 0
    gold_tags, seg_texts, gold_texts, printed, matched = [], [], [], [], []
    for page in pages:
        arts = segment(page.text, model=model)
        units = [u.chars for u in page.units]
        for m, unit in zip(match_units(page.text, units, arts), page.units):
            if unit.kind != "article":
                continue
            total += 1
            found += m.found
            gold_tags.append(set(unit.labels))
            seg_texts.append(arts[m.article].classify_text if m.article >= 0 else "")
            gold_texts.append(f"{unit.title}\n{unit.text}")
            printed.append(printed_text(page, unit))
            matched.append(m.found)
        t, p, g = boundaries(page.text, units, arts)
        tp, n_pred, n_gold = tp + t, n_pred + p, n_gold + g
    out = {"found": found, "articles": total, "precision": tp / n_pred if n_pred else 0.0,
           "recall": tp / n_gold if n_gold else 0.0}
    if tagger is not None:
        from training.evaluate import score

        def tags(texts):
            return [set(r.labels) if t else set() for r, t in zip(tagger.classify(texts), texts)]

        none = [set() for _ in gold_tags]
        seg, gold, prn = tags(seg_texts), tags(gold_texts), tags(printed)
        out["f1_segmented"] = score(gold_tags, seg, tagger.labels, none)["macro_f1"]
        out["f1_gold_text"] = score(gold_tags, gold, tagger.labels, none)["macro_f1"]
        out["f1_printed"] = score(gold_tags, prn, tagger.labels, none)["macro_f1"]
        # The measure: the matched articles only, against their gold text (corpus and printed).
        keep = [k for k, f in enumerate(matched) if f]

        def on_matched(pred):
            return score([gold_tags[k] for k in keep], [pred[k] for k in keep], tagger.labels,
                         [set() for _ in keep])["macro_f1"]

        out["m_segmented"], out["m_gold_text"], out["m_printed"] = on_matched(seg), on_matched(gold), on_matched(prn)
    return out


def leave_one_style_out(tagger, per_style: int, train_pages: int, seed: int) -> list[str]:
    """Markdown rows: for each style, a model trained on the others, tested on it (and the rules alone)."""
    from training.pages.synth import generate, load_styles
    from training.pages.train_boundaries import decisions, fit

    styles = sorted(load_styles()[0])
    train_all = list(generate(seed=seed, count=train_pages))
    x, y, style_of = decisions(train_all)
    out = ["## Leave-one-style-out on generated pages", "",
           f"{train_pages} training pages (seed {seed}, minus the held-out style's), {per_style} test pages per style "
           f"(seed {seed + 1}); a unit is an article, captions excluded.", "",
           "| held-out style | articles | matched (model) | matched (rules) | boundary P | boundary R | "
           "P (rules) | R (rules) | tag F1 segmented | tag F1 perfect split | tag F1 corpus text "
           "| matched: tag F1 segmented | matched: perfect split | matched: corpus text |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    worst, tag_loss, corpus_loss, m_loss, m_corpus_loss = 1.0, 0.0, 0.0, 0.0, 0.0
    for held in styles:
        keep = np.array([s != held for s in style_of])
        model = fit(x[keep], y[keep])
        test = list(generate(seed=seed + 1, count=per_style, styles=[held]))
        m, r = generated_scores(test, model, tagger), generated_scores(test, None, None)
        share = m["found"] / m["articles"]
        worst = min(worst, share)
        f1 = ""
        if "f1_segmented" in m:
            tag_loss = max(tag_loss, m["f1_printed"] - m["f1_segmented"])
            corpus_loss = max(corpus_loss, m["f1_gold_text"] - m["f1_segmented"])
            m_loss = max(m_loss, m["m_printed"] - m["m_segmented"])
            m_corpus_loss = max(m_corpus_loss, m["m_gold_text"] - m["m_segmented"])
            f1 = (f"{m['f1_segmented']:.3f} | {m['f1_printed']:.3f} | {m['f1_gold_text']:.3f} | "
                  f"{m['m_segmented']:.3f} | {m['m_printed']:.3f} | {m['m_gold_text']:.3f}")
        out.append(f"| {held} | {m['articles']} | {m['found']} ({share:.1%}) | {r['found']} ({r['found'] / r['articles']:.1%}) | "
                   f"{m['precision']:.3f} | {m['recall']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {f1 or '- | - | - | - | - | -'} |")
    out += ["", f"worst held-out style: **{worst:.1%}** matched; largest tag macro-F1 loss against the perfect "
                f"split: **{tag_loss:.3f}** over all articles (against the corpus text: {corpus_loss:.3f}); "
                f"over the matched articles (the issue's measure): **{m_loss:.3f}** against the perfect split, "
                f"**{m_corpus_loss:.3f}** against the corpus text"]
    return out


def generated_timing(tagger, chars: int = 20_000, runs: int = 5) -> str:
    """segment (+ classify) of one ~20,000-character generated page, median of `runs`."""
    from training.pages.synth import generate

    text, pages = "", generate(seed=77, count=1000)
    while len(text) < chars:
        text += next(pages).text + "\n\n"
    t = timing(text[:chars], tagger, runs)
    both = f", segment + classify **{t['segment_classify_ms']:.1f} ms**" if "segment_classify_ms" in t else ""
    return f"generated page, {t['chars']:,} characters ({t['articles']} articles): segment **{t['segment_ms']:.1f} ms**{both} (median of {runs})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", type=Path, help="models directory (default: TAGGER_MODELS_DIR or models/)")
    parser.add_argument("--pages-per-style", type=int, default=300, help="generated test pages per held-out style")
    parser.add_argument("--train-pages", type=int, default=2000, help="generated training pages (all styles)")
    parser.add_argument("--seed", type=int, default=140)
    args = parser.parse_args(argv)
    from bench.gold_sets import seed_articles
    from training.config import get_settings

    models_dir = args.models_dir or get_settings().models_dir
    tagger, version = load_tagger(models_dir)
    print("\n".join([*leave_one_style_out(tagger, args.pages_per_style, args.train_pages, args.seed), "",
                     generated_timing(tagger), ""]))
    if not (SEEDS / "gold.jsonl").is_file():
        print(f"seed pages skipped: {SEEDS} not found (the third-party seed pages live in ../shared beside the checkout)")
        return 0

    gold = [json.loads(line) for line in (SEEDS / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    pages = {name: (SEEDS / name).read_text(encoding="utf-8") for name in sorted({g["seed"] for g in gold})}
    rows, _ = segmentation_rows(pages, gold)
    found = sum(r["found"] for r in rows)

    tags = tag_scores(tagger, rows, {a["id"]: a["text"] for a in seed_articles()}) if tagger else None
    times = timing("\n\n".join(pages.values()), tagger)
    entities = entity_scores(pages)

    out = ["# Page segmentation on the seed pages (held out: never used to fit or tune)", ""]
    out.append(f"**{found} of {len(rows)}** gold articles found (coverage >= {MIN_COVERAGE:.2f} and purity >= {MIN_PURITY:.2f}).")
    out += ["", "| gold | lines | match lines | kind | title | coverage | (spans only) | purity | found | tags | gold tags |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        g, m = r["gold"], r["match"]
        gl = ",".join(f"{a}-{b}" for a, b in g["lines"])
        title = (m.title[:14] + "…" if len(m.title) > 15 else m.title) if m else ""
        out.append(
            f"| {r['id']} | {gl} | {_line_ranges(pages[g['seed']], m)} | {m.kind if m else '-'} | {title} | "
            f"{r['coverage']:.2f} | {r['coverage_spans_only']:.2f} | {r['purity']:.2f} | {'yes' if r['found'] else '**no**'} | "
            f"{' '.join(r.get('tags', [])) or '∅'} | {' '.join(g['labels']) or '∅'}"
            f"{' (+' + ' '.join(g['optional']) + ')' if g.get('optional') else ''} |"
        )
    out += ["", "## Tags of the matched articles", ""]
    if tags is None:
        out.append(f"skipped: no model ({version})")
    else:
        out.append(f"model `{version}` from {models_dir}")
        out += ["", "| label | P | R | F1 | support | P (gold text) | R (gold text) | F1 (gold text) |", "|---|---|---|---|---|---|---|---|"]
        for label, m in tags["segmented"]["per_label"].items():
            g = tags["gold_text"]["per_label"][label]
            out.append(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} | "
                       f"{g['precision']:.3f} | {g['recall']:.3f} | {g['f1']:.3f} |")
        out += ["", f"macro-F1 **{tags['segmented']['macro_f1']:.3f}** on the segmented articles "
                    f"(exact-set {tags['segmented']['exact_set_accuracy']:.3f}); "
                    f"{tags['gold_text']['macro_f1']:.3f} on the gold articles' own text."]
    out += ["", "## Speed", "",
            f"segment, {times['chars']:,} characters ({times['articles']} articles): median of 5 **{times['segment_ms']:.1f} ms**"]
    if "segment_classify_ms" in times:
        out.append(f"segment + classify: median of 5 **{times['segment_classify_ms']:.1f} ms**")
    out += ["", "## Institutions (extract_entities vs hand-marked names)", "",
            f"precision **{entities['precision']:.3f}**, recall **{entities['recall']:.3f}** "
            f"({entities['gold']} gold names, {entities['predicted']} extracted)"]
    if entities["missed"]:
        out.append(f"missed: {', '.join(entities['missed'])}")
    if entities["extra"]:
        out.append(f"extra: {', '.join(entities['extra'])}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
