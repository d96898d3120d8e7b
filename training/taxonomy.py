"""Reads labels/taxonomy.toml: the only list of labels in the project."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import TaxonomyError


@dataclass(frozen=True)
class Label:
    """One tag: id, Chinese name, definition, cue terms and institution-name patterns."""

    id: str
    name: str
    definition: str
    includes: tuple[str, ...]
    excludes: tuple[str, ...]
    terms: tuple[str, ...]
    institution_patterns: tuple[str, ...]
    cue_features: bool = True

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "definition": self.definition,
            "includes": list(self.includes),
            "excludes": list(self.excludes),
        }


@lru_cache(maxsize=8)
def load_taxonomy(path: Path) -> tuple[Label, ...]:
    """Parse and check the taxonomy file; raise TaxonomyError naming what is wrong."""
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaxonomyError(f"taxonomy file not found: {path}; set TAGGER_LABELS_DIR") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{path}: invalid TOML ({exc})") from None
    labels = []
    for i, entry in enumerate(doc.get("label", []), start=1):
        try:
            label = Label(
                id=entry["id"],
                name=entry["name"],
                definition=entry["definition"],
                includes=tuple(entry.get("includes", ())),
                excludes=tuple(entry.get("excludes", ())),
                terms=tuple(entry.get("terms", ())),
                institution_patterns=tuple(entry.get("institution_patterns", ())),
                cue_features=bool(entry.get("cue_features", True)),
            )
        except KeyError as exc:
            raise TaxonomyError(f"{path}: label #{i} lacks {exc.args[0]!r}") from None
        for pattern in label.institution_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise TaxonomyError(f"{path}: label {label.id!r} pattern {pattern!r}: {exc}") from None
        labels.append(label)
    if not labels:
        raise TaxonomyError(f"{path}: defines no [[label]] entries")
    ids = [label.id for label in labels]
    if len(set(ids)) != len(ids):
        raise TaxonomyError(f"{path}: duplicate label ids in {ids}")
    return tuple(labels)


def label_ids(path: Path) -> list[str]:
    """The label ids in taxonomy order."""
    return [label.id for label in load_taxonomy(Path(path))]
