"""Train the boundary model on generated pages and ship it as training/pages/boundary/.

    python -m training.pages.train_boundaries [--pages 2000] [--seed 14] [--out DIR]

Every page of training/pages/synth.py is split with the rules while each headline decision is
recorded (features, the paragraph before, the paragraph after); its label is whether the two
paragraphs belong to different gold articles. Boosted trees (scikit-learn, at training time only)
are fitted and exported as plain node arrays + JSON; serving walks them in plain Python
(training/pages/boundary.py). The seed pages of ../shared are never used here.
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


def sample_weights(y: np.ndarray) -> np.ndarray:
    """Weights halfway (square root) to balanced: new-article decisions are the rarer, and the costlier to miss."""
    y = np.asarray(y, dtype=bool)
    share = float(y.mean()) if len(y) else 0.5
    return np.where(y, (0.5 / max(share, 1e-9)) ** 0.5, (0.5 / max(1 - share, 1e-9)) ** 0.5)


def fit(x: np.ndarray, y: np.ndarray, info: dict | None = None, seed: int = 0) -> BoundaryModel:
    """Boosted trees (scikit-learn at training time only), exported as flat node arrays."""
    from sklearn.ensemble import GradientBoostingClassifier

    # Fixed, ordinary settings (not tuned on anything): 100 trees of depth 3.
    clf = GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, subsample=0.8,
                                     random_state=seed)
    clf.fit(x, y, sample_weight=sample_weights(y))
    parts = {k: [] for k in ("feature", "cut", "left", "right", "value")}
    roots, base = [], 0
    for est in clf.estimators_[:, 0]:
        tree = est.tree_
        leaf = tree.children_left < 0
        roots.append(base)
        parts["feature"].append(np.where(leaf, -1, tree.feature))
        parts["cut"].append(np.where(leaf, 0.0, tree.threshold))
        parts["left"].append(np.where(leaf, -1, tree.children_left + base))
        parts["right"].append(np.where(leaf, -1, tree.children_right + base))
        parts["value"].append(tree.value.reshape(tree.node_count, -1)[:, 0])
        base += tree.node_count
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    rate = float(clf.learning_rate)
    model = BoundaryModel(FEATURES, arrays["feature"].astype(np.int32), arrays["cut"].astype(np.float64),
                          arrays["left"].astype(np.int32), arrays["right"].astype(np.int32),
                          arrays["value"].astype(np.float64), np.array(roots, dtype=np.int32), 0.0, rate, 0.5, info)
    # The constant term is whatever scikit-learn adds before the trees (its prior): read it off the
    # fitted model, then check the export reproduces its scores on every training row.
    raw = clf.decision_function(x)
    bias = float(raw[0] - model._contributions(x[0])[0])
    model = BoundaryModel(*(getattr(model, f) for f in ("names", "feature", "cut", "left", "right", "value", "roots")),
                          bias, rate, 0.5, info)
    worst = max(abs(model._contributions(r)[0] - z) for r, z in zip(x, raw))
    if worst > 1e-6:
        raise RuntimeError(f"exported trees disagree with scikit-learn by {worst:g}")
    return model


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
