"""docs/statistics.md against the annual report's counting template: the
rows the page explains are the rows the template counts (computed and
manual), each with its source, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from sanxiang.statistics import annual_rules

DOCS = Path(__file__).resolve().parents[3] / "docs" / "statistics.md"
KEY = re.compile(r"`([a-z][a-z_]*\.[a-z][a-z_]*)`")


def annual_report_tables() -> list[list[str]]:
    """The body rows of the tables of the "Annual report" section, as lists of cells."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("\n## Annual report", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) >= 3 and not set("".join(cells)) <= set("-: ") and cells[0] not in ("row", "manual row"):
            rows.append(cells)
    return rows


def test_the_docs_name_every_computed_and_manual_row_of_the_template_and_no_other():
    template = annual_rules.templates()[-1]
    in_template = {r.key for r in template.rows} | {m.key for m in template.manual}
    assert {m.key for m in template.manual}, "the template has manual rows"
    named = [key for cells in annual_report_tables() for key in KEY.findall(cells[0])]
    assert len(named) == len(set(named)), "a row explained twice"
    assert sorted(in_template - set(named)) == [], "rows of the template the docs do not explain"
    assert sorted(set(named) - in_template) == [], "rows the docs explain that the template does not have"


def test_every_row_the_docs_explain_names_its_source_and_manual_rows_say_the_agency_enters_them():
    template = annual_rules.templates()[-1]
    manual = {m.key for m in template.manual}
    for cells in annual_report_tables():
        keys = KEY.findall(cells[0])
        assert keys, f"a row of the table names no key: {cells[0]}"
        source = cells[-1]
        assert source and source not in ("—", "-"), f"{keys}: no source"
        if set(keys) & manual:
            assert set(keys) <= manual, f"{keys}: a computed and a manual row in one line"
            assert "entered by the agency" in source, f"{keys}: the source of a manual row is the agency"
        else:
            assert "entered by the agency" not in source, f"{keys}: a computed row is counted, not entered"
