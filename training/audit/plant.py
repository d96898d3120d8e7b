"""Planting label errors in a copy of a labeled set, to measure how well the audit finds them."""

from __future__ import annotations

import random


def plant_errors(label_sets: list[set[str]], labels: list[str], share: float = 0.1, seed: int = 0) -> tuple[list[set[str]], set[int]]:
    """(corrupted copy, indices changed): `share` of the rows get one label flipped or dropped (seeded).

    A chosen row with labels loses one (drop) or has one replaced by a label it lacks (flip),
    half and half; an untagged row gains a wrong label (its only possible flip).
    """
    rng = random.Random(seed)
    out = [set(tags) for tags in label_sets]
    chosen = set(rng.sample(range(len(out)), int(round(len(out) * share))))
    for i in sorted(chosen):
        tags = sorted(out[i])
        wrong = [label for label in labels if label not in out[i]]
        if tags and (rng.random() < 0.5 or not wrong):
            out[i].discard(rng.choice(tags))
        else:
            if tags:
                out[i].discard(rng.choice(tags))
            out[i].add(rng.choice(wrong))
    return out, chosen
