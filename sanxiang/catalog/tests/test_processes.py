"""Process definitions as data: the loader, its validation and the flowchart
drawn from the same definition (公示-6)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sanxiang.catalog.processes import (
    PROCESSES_DIR, ProcessDefinitionError, ProcessNotFound, all_processes, get_process, load_process_file,
    render_flowchart_svg,
)

SVG = "{http://www.w3.org/2000/svg}"

VALID = """\
act_kind: penalty
procedure: test
title: 测试流程
steps:
  - code: opening
    name: 立案
    records: [立案审批表]
    av: false
    next: [decision]
  - code: decision
    name: 决定
    records: [行政处罚决定书]
    av: false
    next: []
"""


def write(tmp_path: Path, text: str, name: str = "penalty-test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_definition_loads_with_the_seven_act_procedures():
    keys = {d.key for d in all_processes()}
    assert {("penalty", "general"), ("penalty", "summary"), ("license", "general"), ("coercion", "general"),
            ("inspection", "general"), ("levy", "general"), ("fee", "general")} <= keys
    assert len(list(PROCESSES_DIR.glob("*.yaml"))) == len(keys)


def test_penalty_general_has_the_steps_of_the_penalty_law_with_rules_and_records():
    d = get_process("penalty", "general")
    assert d.codes[0] == "opening" and d.codes[-1] == "closure"
    assert {"investigation", "notification", "hearing", "review", "decision", "service", "execution"} <= set(d.codes)
    hearing = d.step("hearing")
    assert hearing.optional and hearing.condition and hearing.time_limit_rule == "penalty.hearing_request_limit"
    assert d.step("decision").time_limit_rule == "penalty.decision_limit"
    assert "行政处罚事先告知书" in d.step("notification").records
    assert d.step("investigation").av is True
    assert d.step("review").returns == ("investigation",)


def test_a_definition_is_frozen_data():
    d = get_process("penalty", "general")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.title = "changed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.steps[0].av = True


def test_an_unknown_process_is_a_clear_lookup_error():
    with pytest.raises(ProcessNotFound, match="penalty-nonexistent"):
        get_process("penalty", "nonexistent")


@pytest.mark.parametrize("change, step, words", [
    (("next: [decision]", "next: [deciison]"), "opening", "deciison"),
    (("next: []", "next: [opening]"), "decision", "回路"),
    (("    av: false\n    next: []", "    av: false\n    next: []\n    time_limit_rule: penalty.no_such_rule"), "decision", "penalty.no_such_rule"),
    (("    av: false\n    next: []", "    av: false\n    next: []\n    returns: [nowhere]"), "decision", "nowhere"),
    (("    records: [行政处罚决定书]\n    av: false\n", "    records: [行政处罚决定书]\n"), "decision", "av"),
    (("    records: [立案审批表]\n", "    records: []\n"), "opening", "records"),
    (("    name: 决定\n", "    name: 决定\n    colour: red\n"), "decision", "colour"),
])
def test_a_malformed_definition_fails_naming_the_file_and_the_step(tmp_path, change, step, words):
    old, new = change
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(ProcessDefinitionError) as exc:
        load_process_file(path)
    message = str(exc.value)
    assert "penalty-test.yaml" in message and f"步骤 {step}" in message and words in message


def test_an_explicit_return_is_allowed_where_a_backward_next_is_refused(tmp_path):
    ok = VALID.replace("    av: false\n    next: []", "    av: false\n    next: []\n    returns: [opening]")
    assert load_process_file(write(tmp_path, ok)).step("decision").returns == ("opening",)


def test_a_three_step_cycle_is_named(tmp_path):
    text = VALID.replace("next: [decision]", "next: [middle]").replace(
        "  - code: decision", "  - code: middle\n    name: 中间\n    records: [笔录]\n    av: false\n    next: [decision]\n  - code: decision"
    ).replace("next: []", "next: [opening]")
    with pytest.raises(ProcessDefinitionError, match="回路"):
        load_process_file(write(tmp_path, text))


def test_the_file_name_must_match_act_kind_and_procedure(tmp_path):
    with pytest.raises(ProcessDefinitionError, match="penalty-test.yaml"):
        load_process_file(write(tmp_path, VALID, name="penalty-other.yaml"))


def test_invalid_yaml_names_the_file(tmp_path):
    with pytest.raises(ProcessDefinitionError, match="penalty-test.yaml"):
        load_process_file(write(tmp_path, "act_kind: [unclosed"))


def test_the_flowchart_svg_shows_every_step_record_and_av_mark_of_the_definition():
    d = get_process("penalty", "general")
    svg = render_flowchart_svg(d)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.get("width") == "100%" and root.get("viewBox")
    groups = {g.get("data-step"): g for g in root.iter(f"{SVG}g") if g.get("data-step")}
    assert list(groups) == list(d.codes)
    for step in d.steps:
        text = "".join(groups[step.code].itertext())
        assert step.name in text
        for record in step.records:
            assert record in text
        assert ("●音像" in text) == step.av
        rect = groups[step.code].find(f"{SVG}rect")
        assert ("opt" in rect.get("class")) == step.optional  # optional steps drawn dashed


def test_the_flowchart_shows_time_limits_from_the_dated_rules():
    svg = render_flowchart_svg(get_process("penalty", "general"))
    assert "时限：90日（自然日）" in svg  # penalty.decision_limit, 行政处罚法 art. 60
    assert "时限：7个工作日" in svg  # penalty.service_limit, art. 61


@pytest.mark.parametrize("definition", all_processes(), ids=lambda d: f"{d.act_kind}-{d.procedure}")
def test_every_flowchart_renders_as_valid_svg(definition):
    root = ET.fromstring(render_flowchart_svg(definition))
    assert len([g for g in root.iter(f"{SVG}g") if g.get("data-step")]) == len(definition.steps)
