"""The annual report's counting rules and table template, versioned per
reporting year (``counting/<year>.yaml``): which figure of the figures layer
fills each row, which power (act kind) the agency must hold for a row to
count as 0 rather than "—", the rule in words and its sources.

``template_for(year)`` answers the template of the latest file whose
``applies_from_year`` is on or before the year; a year before the first
template raises ``UnknownYear``. Files are checked when loaded: a row naming
an unknown source, a duplicate key or a missing field is refused with the
file and row named.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from sanxiang.core.vocabulary import ActKind

COUNTING_DIR = Path(__file__).resolve().parent / "counting"
ROW_KEYS = {"key", "label", "duty", "figure", "rule", "source"}


class TemplateError(ValueError):
    pass


class UnknownYear(LookupError):
    pass


@dataclass(frozen=True)
class Row:
    key: str  # "penalty.cases": section "penalty", field "cases"
    label: str
    duty: str  # an ActKind value, or "" when the row holds for every agency
    figure: str  # the figures-layer key; "penalty.category.*" for the category breakdown
    rule: str
    sources: tuple[str, ...]  # the source texts, resolved

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.key.split(".", 1)[1]


@dataclass(frozen=True)
class ManualRow:
    """A figure the platform cannot know: entered by the agency with a note."""

    key: str
    label: str
    sources: tuple[str, ...]

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.key.split(".", 1)[1]


@dataclass(frozen=True)
class Template:
    version: str
    applies_from_year: int
    title: str
    rows: tuple[Row, ...]
    manual: tuple[ManualRow, ...] = ()

    def duties(self) -> set[str]:
        return {r.duty for r in self.rows if r.duty}


def _load(path: Path) -> Template:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    try:
        sources = dict(data["sources"])
        rows, seen = [], set()
        for i, raw in enumerate(data["rows"], start=1):
            missing = ROW_KEYS - set(raw)
            if missing:
                raise TemplateError(f"{where} row {i}: missing {', '.join(sorted(missing))}")
            if raw["key"] in seen or "." not in raw["key"]:
                raise TemplateError(f"{where} row {i}: key {raw['key']!r} duplicated or without a section")
            seen.add(raw["key"])
            if raw["duty"] and raw["duty"] not in ActKind.values:
                raise TemplateError(f"{where} row {i}: unknown duty {raw['duty']!r}")
            unknown = [s for s in raw["source"] if s not in sources]
            if unknown or not raw["source"]:
                raise TemplateError(f"{where} row {i}: unknown or missing source {unknown}")
            rows.append(Row(key=raw["key"], label=raw["label"], duty=raw["duty"] or "", figure=raw["figure"],
                            rule=raw["rule"], sources=tuple(sources[s] for s in raw["source"])))
        manual = []
        for i, raw in enumerate(data.get("manual") or [], start=1):
            if raw["key"] in seen or "." not in raw["key"] or any(s not in sources for s in raw["source"]):
                raise TemplateError(f"{where} manual row {i}: key {raw['key']!r} duplicated, without a section "
                                    f"or with an unknown source")
            seen.add(raw["key"])
            manual.append(ManualRow(key=raw["key"], label=raw["label"], sources=tuple(sources[s] for s in raw["source"])))
        return Template(version=str(data["template"]), applies_from_year=int(data["applies_from_year"]),
                        title=data["title"], rows=tuple(rows), manual=tuple(manual))
    except (KeyError, TypeError) as exc:
        raise TemplateError(f"{where}: malformed template ({exc})") from exc


@lru_cache(maxsize=1)
def templates() -> tuple[Template, ...]:
    loaded = [_load(p) for p in sorted(COUNTING_DIR.glob("*.yaml"))]
    return tuple(sorted(loaded, key=lambda t: t.applies_from_year))


def template_for(year: int) -> Template:
    chosen = None
    for t in templates():
        if t.applies_from_year <= year:
            chosen = t
    if chosen is None:
        raise UnknownYear(f"no counting template for {year} (the first applies from "
                          f"{templates()[0].applies_from_year if templates() else '—'})")
    return chosen
