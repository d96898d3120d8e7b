"""The page generator: reproducible, exact gold offsets, every style and convention of its table."""

from __future__ import annotations

import pytest

from training.pages.synth import generate, load_styles

STYLES, WORDS = load_styles()


def test_same_seed_same_pages_other_seed_other_pages():
    a = [p.text for p in generate(seed=7, count=12)]
    assert a == [p.text for p in generate(seed=7, count=12)]
    assert a != [p.text for p in generate(seed=8, count=12)]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_gold_offsets_are_exact(style):
    for page in generate(seed=3, count=4, styles=[style]):
        seen: set[int] = set()
        for unit in page.units:
            assert unit.chars, unit.id
            assert all(not page.text[i].isspace() for i in unit.chars)
            assert not seen & set(unit.chars), "two units own one character"
            seen.update(unit.chars)
            own = "".join(page.text[i] for i in unit.chars)
            if unit.kind == "article":
                # every paragraph of the corpus text is printed, in order, inside the unit's characters
                first = "".join(unit.text.split("\n")[0].split())
                assert first[:10] in own, (unit.id, first[:10])
                title = "".join(unit.title.split())
                assert title[:6] in own.replace("#", "").replace("*", "")


@pytest.mark.parametrize("style, mark", [
    ("markdown", "## "), ("bold", "**"), ("casebook", "【"), ("casebook", "版）"), ("briefs", "报讯"),
    ("wrapped", "\n\n"), ("columns", "摄"), ("after_body", "□本报记者"), ("two_line", "报道"),
])
def test_conventions_appear(style, mark):
    assert any(mark in p.text for p in generate(seed=1, count=20, styles=[style]))


def test_unknown_style_is_named():
    with pytest.raises(ValueError, match="nosuch"):
        next(generate(styles=["nosuch"]))
