"""Reads labels/taxonomy.toml (or a user's label set in the same format, TOML or JSON).

A trained model carries its own label set in its metadata (`meta["taxonomy"]`, see to_meta /
from_meta), so the service follows the active model's labels rather than this file.
"""

from __future__ import annotations

import json
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
    colour: str = ""

    def to_dict(self) -> dict:
        out = {
            "id": self.id,
            "name": self.name,
            "definition": self.definition,
            "includes": list(self.includes),
            "excludes": list(self.excludes),
        }
        if self.colour:
            out["colour"] = self.colour
        return out

    def to_meta(self) -> dict:
        """Every field, as stored in a model's metadata (the same keys as a [[label]] entry)."""
        return {**self.to_dict(), "terms": list(self.terms), "institution_patterns": list(self.institution_patterns),
                "cue_features": self.cue_features, "colour": self.colour}


LABEL_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_LABELS = 50
MAX_REPEAT = 20  # the longest bounded repeat a cue pattern may use, e.g. [\u4e00-\u9fff]{1,20}


@lru_cache(maxsize=8)
def load_taxonomy(path: Path) -> tuple[Label, ...]:
    """Parse and check the taxonomy file; raise TaxonomyError naming what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaxonomyError(f"taxonomy file not found: {path}; set TAGGER_LABELS_DIR") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    return parse_taxonomy(text, str(path))


def parse_taxonomy(text: str, source: str = "taxonomy") -> tuple[Label, ...]:
    """Labels from TOML (labels/taxonomy.toml's format) or the same structure as JSON.

    JSON is an object {"label": [{"id", "name", "definition", ...}]} ("labels" works too) or a
    bare list of such entries. TaxonomyError names the source, the entry and the fix.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{") or (stripped.startswith("[") and stripped[1:].lstrip()[:1] in ("{", "]")):  # not TOML's [[label]]
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise TaxonomyError(f"{source}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(doc, list):
            doc = {"label": doc}
        if not isinstance(doc, dict):
            raise TaxonomyError(f"{source}: a JSON taxonomy is an object with a 'label' list")
        if "label" not in doc and "labels" in doc:
            doc = {**doc, "label": doc["labels"]}
    else:
        try:
            doc = tomllib.loads(stripped)
        except tomllib.TOMLDecodeError as exc:
            raise TaxonomyError(f"{source}: invalid TOML ({exc})") from None
    entries = doc.get("label", [])
    if not isinstance(entries, list):
        raise TaxonomyError(f"{source}: 'label' must be a list of [[label]] entries")
    labels = [_label(entry, i, source) for i, entry in enumerate(entries, start=1)]
    if not labels:
        raise TaxonomyError(f"{source}: defines no [[label]] entries")
    if len(labels) > MAX_LABELS:
        raise TaxonomyError(f"{source}: {len(labels)} labels; at most {MAX_LABELS}")
    ids = [label.id for label in labels]
    if len(set(ids)) != len(ids):
        raise TaxonomyError(f"{source}: duplicate label ids in {ids}")
    return tuple(labels)


def _strings(entry: dict, key: str, where: str, limit: int = 500) -> tuple[str, ...]:
    value = entry.get(key, ())
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value) or len(value) > limit:
        raise TaxonomyError(f"{where}: {key!r} must be a list of at most {limit} strings")
    return tuple(value)


def _label(entry: object, i: int, source: str) -> Label:
    """One [[label]] entry, checked: id, name and definition are required strings."""
    where = f"{source}: label #{i}"
    if not isinstance(entry, dict):
        raise TaxonomyError(f"{where}: must be a table with id, name and definition")
    for key in ("id", "name", "definition"):
        if key not in entry:
            raise TaxonomyError(f"{where} lacks {key!r}")
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise TaxonomyError(f"{where}: {key!r} must be a non-empty string")
    if not LABEL_ID.fullmatch(entry["id"]):
        raise TaxonomyError(f"{where}: id {entry['id'][:40]!r} must be lower-case letters, digits and _ (like judicial_admin), starting with a letter")
    where = f"{source}: label {entry['id']!r}"
    colour = entry.get("colour", entry.get("color", ""))
    if colour and not (isinstance(colour, str) and COLOUR.fullmatch(colour)):
        raise TaxonomyError(f"{where}: colour {str(colour)[:20]!r} must look like #1f77b4")
    label = Label(
        id=entry["id"], name=entry["name"].strip(), definition=entry["definition"].strip(),
        includes=_strings(entry, "includes", where), excludes=_strings(entry, "excludes", where),
        terms=tuple(t for t in _strings(entry, "terms", where) if t.strip()),
        institution_patterns=_strings(entry, "institution_patterns", where, limit=50),
        cue_features=bool(entry.get("cue_features", True)), colour=colour or "",
    )
    for pattern in label.institution_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TaxonomyError(f"{where} pattern {pattern!r}: {exc}") from None
        if not _linear(pattern):
            raise TaxonomyError(f"{where} pattern {pattern[:60]!r}: a repeated group that itself repeats or alternates, or a "
                                "back-reference, or an unbounded repeat (*, +, {n,}), can take more than linear time on a long page; write the name's fixed parts, e.g. 司法(?:局|所)")
    return label


def _linear(pattern: str) -> bool:
    """No construct that backtracks badly: no quantifier over a group holding a quantifier or an
    alternation, no back-reference. Patterns run over every page classified, so this is checked."""
    from re import _parser as parser  # the stdlib's own parse tree (sre_parse)

    repeats = {parser.MAX_REPEAT, parser.MIN_REPEAT, getattr(parser, "POSSESSIVE_REPEAT", parser.MAX_REPEAT)}

    def walk(items, inside: bool) -> bool:
        for op, arg in items:
            if op in (parser.GROUPREF, parser.GROUPREF_EXISTS):
                return False
            if op in repeats:
                low, high, sub = arg
                # unbounded (x*, x+, x{2,}) would rescan to the page's end from every start: quadratic
                if inside or high > MAX_REPEAT or not walk(sub, high > 1):
                    return False
            elif op is parser.BRANCH:
                if inside or not all(walk(branch, inside) for branch in arg[1]):
                    return False
            elif op is parser.SUBPATTERN:
                if not walk(arg[-1], inside):
                    return False
            elif op in (parser.ASSERT, parser.ASSERT_NOT):
                if not walk(arg[1], inside):
                    return False
        return True

    return walk(parser.parse(pattern), False)


def from_meta(meta: dict, fallback: Path | None = None) -> tuple[Label, ...]:
    """A model's label set: its stored `taxonomy`, else the fallback file's labels that it has.

    Models trained before label sets travelled with them store only `labels` (and maybe
    `label_names`); their labels are looked up in the fallback file (labels/taxonomy.toml).
    """
    ids = [str(x) for x in meta.get("labels") or []]
    stored = meta.get("taxonomy")
    if isinstance(stored, list) and stored:
        try:
            labels = parse_taxonomy(json.dumps({"label": stored}), "model metadata")
            if not ids or [label.id for label in labels] == ids:
                return labels
        except TaxonomyError:
            pass  # a damaged entry: fall back to the file rather than fail to serve
    known = {label.id: label for label in load_taxonomy(Path(fallback))} if fallback else {}
    if not ids:
        return tuple(known.values())
    names = meta.get("label_names") or {}
    return tuple(known.get(i) or Label(i, str(names.get(i, i)), "", (), (), (), ()) for i in ids)


def to_meta(labels: tuple[Label, ...] | list[Label]) -> list[dict]:
    """The label set as stored in model.json (parse_taxonomy reads it back)."""
    return [label.to_meta() for label in labels]


def write_taxonomy(labels: tuple[Label, ...] | list[Label], path: Path) -> Path:
    """Write a label set as a JSON taxonomy file (what the cue features read at fit time)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"label": to_meta(labels)}, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def label_ids(path: Path) -> list[str]:
    """The label ids in taxonomy order."""
    return [label.id for label in load_taxonomy(Path(path))]
