"""Train the boundary model on generated pages and ship it as training/pages/boundary/.

    python -m training.pages.train_boundaries [--pages 2000] [--seed 14] [--out DIR]

Every page of training/pages/synth.py is split with the rules while each headline decision is
recorded (features, the paragraph before, the paragraph after); its label is whether the two
paragraphs belong to different gold articles. A logistic regression (scikit-learn, at training
time only) is fitted on standardized features and exported as plain arrays + JSON; serving scores
it with numpy (training/pages/boundary.py). The seed pages of ../shared are never used here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .boundary import FEATURES, MODEL_DIR, BoundaryModel
from .patterns import default_patterns
from .segment import _Splitter
from .synth import Page, generate


def decisions(pages: list[Page]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(features, labels, style) of every headline decision the splitter meets on the pages."""
    xs, ys, styles = [], [], []
    pt = default_patterns()
    for page in pages:
        record: list = []
        _Splitter(page.text, pt, None, record).run()
        owner = page.owner()

        def owner_of(p) -> int:
            return next((owner[i] for i in range(p.start, p.end) if owner[i] >= 0), -1)

        for x, before, after in record:
            if before is None:
                continue
            a, b = owner_of(before), owner_of(after)
            if a < 0 or b < 0:
                continue
            xs.append(x)
            ys.append(a != b)
            styles.append(page.style)
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0, dtype=bool), []
    return np.vstack(xs), np.array(ys, dtype=bool), styles


def fit(x: np.ndarray, y: np.ndarray, info: dict | None = None, c: float = 1.0) -> BoundaryModel:
    """A logistic regression on standardized features (scikit-learn at training time only)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit((x - mean) / scale, y)
    return BoundaryModel(FEATURES, clf.coef_[0].astype(np.float64), float(clf.intercept_[0]), mean, scale, 0.5, info)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="generated pages to train on")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="directory to write (replaced atomically)")
    args = parser.parse_args(argv)
    pages = list(generate(seed=args.seed, count=args.pages))
    x, y, _ = decisions(pages)
    if len(set(y.tolist())) < 2:
        print("error: the generated pages gave decisions of one class only; generate more pages", file=sys.stderr)
        return 1
    model = fit(x, y, {"pages": args.pages, "seed": args.seed, "decisions": int(len(y)), "new_article": int(y.sum()),
                       "trained_on": "training/pages/synth.py pages of every style in styles.toml"})
    model.save(args.out)
    acc = float(np.mean([(model.prob(r) >= model.threshold) == t for r, t in zip(x, y)]))
    print(f"wrote {args.out}: {len(y)} decisions ({int(y.sum())} new article), training accuracy {acc:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
