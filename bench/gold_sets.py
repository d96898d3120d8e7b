"""Build evaluation JSONL files from the third-party gold data in ../shared (never committed).

    .venv/bin/python -m bench.gold_sets            # writes build/gold/{seeds,lawcrime}.jsonl

seeds.jsonl: each gold article of the three seed pages, cut out by its line ranges.
lawcrime.jsonl: the labeled sample of lawcrime_dev.jsonl, with title and text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from training.config import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared"
OUT = REPO_ROOT / "build" / "gold"


def seed_articles(shared: Path = SHARED) -> list[dict]:
    """Gold articles of the seed pages: id, text (their lines joined), labels, optional."""
    items = []
    for line in (shared / "seeds" / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        gold = json.loads(line)
        page = (shared / "seeds" / gold["seed"]).read_text(encoding="utf-8").splitlines()
        text = "\n".join("\n".join(page[a - 1:b]) for a, b in gold["lines"])
        items.append({"id": gold["id"], "text": text, "labels": gold["labels"], "optional": gold.get("optional", [])})
    return items


def lawcrime_articles(shared: Path = SHARED) -> list[dict]:
    """The labeled lawcrime sample: id, title, text, labels, optional."""
    texts = {}
    for line in (shared / "data" / "lawcrime_dev.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            texts[str(item["id"])] = item
    items = []
    for line in (shared / "data" / "lawcrime_dev_labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        gold = json.loads(line)
        article = texts[str(gold["id"])]
        items.append({"id": gold["id"], "title": article.get("title", ""), "text": article["text"],
                      "labels": gold["labels"], "optional": gold.get("optional", [])})
    return items


def write_gold_sets(out: Path = OUT, shared: Path = SHARED) -> dict[str, Path]:
    """Write both gold sets as JSONL; return their paths."""
    if not shared.is_dir():
        raise SystemExit(f"{shared} not found: the gold data lives in ../shared beside the checkout")
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, items in (("seeds", seed_articles(shared)), ("lawcrime", lawcrime_articles(shared))):
        path = paths[name] = out / f"{name}.jsonl"
        path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return paths


if __name__ == "__main__":
    for name, path in write_gold_sets().items():
        print(f"{name}: {path}", file=sys.stderr)
