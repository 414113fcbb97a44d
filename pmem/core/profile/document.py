"""The profile as an editable TOML document, and applying an edited one as a diff.

One table per category, one key per attribute; multi-valued attributes are arrays. An edit is
validated completely (syntax, categories, value types) before anything changes, and applied in one
transaction: an invalid edit changes nothing.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field

from pmem.core.errors import InputError
from pmem.core.profile.model import CATEGORIES, Candidate, Fact, is_single_valued, slug
from pmem.core.profile.store import ProfileStore

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HEADER = """\
# Your pmem profile: what pmem knows about you. Edit, save and close.
# - Change a value to correct it; delete a line (or an item of a list) to forget it; add lines to teach pmem.
# - Sections are categories: {categories}.
# - Keys are attributes (city, employer, likes, sister, ...). Lists hold several values.
"""


def render(facts: list[Fact]) -> str:
    by_cat: dict[str, dict[str, list[str]]] = {}
    for f in facts:
        by_cat.setdefault(f.category, {}).setdefault(f.attribute, []).append(f.value)
    out = [HEADER.format(categories=", ".join(CATEGORIES))]
    for category in CATEGORIES:
        attrs = by_cat.get(category)
        if not attrs:
            continue
        out.append(f"[{category}]")
        for attribute, values in attrs.items():
            if len(values) == 1 and is_single_valued(category, attribute):
                out.append(f"{attribute} = {json.dumps(values[0], ensure_ascii=False)}")
            else:
                out.append(f"{attribute} = [{', '.join(json.dumps(v, ensure_ascii=False) for v in values)}]")
        out.append("")
    return "\n".join(out)


def parse(text: str) -> set[tuple[str, str, str]]:
    """The (category, attribute, value) triples of an edited document, or a one-line InputError with the line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"the edited profile is not valid TOML: {exc}") from None
    triples: set[tuple[str, str, str]] = set()
    for category, table in data.items():
        line = _line_of(text, rf"^\s*\[\s*{re.escape(category)}\s*\]")
        if category not in CATEGORIES:
            raise InputError(f"line {line}: unknown section [{category}]; use one of: {', '.join(CATEGORIES)}")
        if not isinstance(table, dict):
            key_line = _line_of(text, r"^\s*" + re.escape(category) + r"\s*=")
            raise InputError(f"line {key_line}: '{category}' must be a section like [{category}]")
        for attribute, value in table.items():
            aline = _line_of(text, rf"^\s*{re.escape(attribute)}\s*=")
            values = value if isinstance(value, list) else [value]
            for v in values:
                if not isinstance(v, str):
                    raise InputError(f"line {aline}: {category}.{attribute} must be text or a list of text, got {v!r}")
                if v.strip():
                    triples.add((category, slug(attribute), " ".join(v.split())))
            if len([v for v in values if isinstance(v, str) and v.strip()]) > 1 and is_single_valued(category, slug(attribute)):
                raise InputError(f"line {aline}: {category}.{attribute} holds one value at a time; keep one")
    return triples


def _line_of(text: str, pattern: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(pattern, line):
            return number
    return 1


@dataclass
class EditResult:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def line(self) -> str:
        if not self.added and not self.removed:
            return "profile unchanged"
        return f"profile updated: {len(self.added)} fact(s) added or changed, {len(self.removed)} removed"


def apply(store: ProfileStore, text: str) -> EditResult:
    """Apply an edited document as a diff against the current profile, all or nothing."""
    wanted = parse(text)
    current = store.current()
    have = {(f.category, f.attribute, f.value): f for f in current}
    result = EditResult()
    with store.transaction():
        removed = [f for key, f in have.items() if key not in wanted]
        added = [key for key in sorted(wanted) if key not in have]
        # A changed single value supersedes (history kept) instead of being deleted and re-added.
        changed_slots = {(c, a) for c, a, _ in added if is_single_valued(c, a)}
        to_delete = [f for f in removed if (f.category, f.attribute) not in changed_slots]
        if to_delete:
            store.delete([f.id for f in to_delete])
        for category, attribute, value in added:
            store.consolidate([Candidate(category, attribute, value, 1.0, "edited")])
        result.removed = [f.statement for f in to_delete]
        result.added = [f"{c}.{a} = {v}" for c, a, v in added]
    return result
