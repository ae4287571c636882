"""The review procedure as data (审核-8): ``process.yaml`` in this app.

The published flowchart (审核流程图) and the workflow the services enforce
come from this one definition: ``definition()`` builds the catalog app's
``ProcessDefinition`` (so ``render_flowchart_svg`` draws it), and
``can_move(from_code, to_code)`` answers from the same ``next``/``returns``
edges. The catalog loader only accepts act kinds (``<act_kind>-<procedure>``
files), so this file is read here with the same rules: unique codes, known
targets, ``next`` forward, ``returns`` backward, a known time-limit rule, an
end step.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import yaml

from sanxiang.catalog.processes import ProcessDefinition, ProcessDefinitionError, Step

PROCESS_FILE = Path(__file__).resolve().parent / "process.yaml"


def _list(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ProcessDefinitionError(f"审核流程定义：{where} 必须是文字列表")
    return tuple(v.strip() for v in value)


def load_definition(path: Path = PROCESS_FILE) -> ProcessDefinition:
    from sanxiang.rules import all_rules

    raw_bytes = path.read_bytes()
    data = yaml.safe_load(raw_bytes.decode("utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise ProcessDefinitionError("审核流程定义：须有 title 和非空的 steps")
    rule_names = {r.name for r in all_rules()}
    steps: list[Step] = []
    for raw in data["steps"]:
        code = raw.get("code")
        if not isinstance(code, str) or not code or any(s.code == code for s in steps):
            raise ProcessDefinitionError(f"审核流程定义：步骤 code {code!r} 无效或重复")
        rule = raw.get("time_limit_rule")
        if rule is not None and rule not in rule_names:
            raise ProcessDefinitionError(f"审核流程定义：步骤 {code} 的 time_limit_rule {rule!r} 不是已定义的法定参数")
        records = _list(raw.get("records"), f"{code}.records")
        if not records:
            raise ProcessDefinitionError(f"审核流程定义：步骤 {code} 须写明记录的内容")
        steps.append(Step(code=code, name=str(raw["name"]).strip(), records=records, av=bool(raw.get("av", False)),
                          optional=bool(raw.get("optional", False)), condition=str(raw.get("condition") or "").strip(),
                          next=_list(raw.get("next"), f"{code}.next"), returns=_list(raw.get("returns"), f"{code}.returns"),
                          time_limit_rule=rule, time_limit_note=str(raw.get("time_limit_note") or "").strip(),
                          basis=_list(raw.get("basis"), f"{code}.basis")))
    index = {s.code: i for i, s in enumerate(steps)}
    for s in steps:
        for target in s.next:
            if index.get(target, -1) <= index[s.code]:
                raise ProcessDefinitionError(f"审核流程定义：步骤 {s.code} 的 next {target!r} 未知或不在其后")
        for target in s.returns:
            if target not in index or index[target] >= index[s.code]:
                raise ProcessDefinitionError(f"审核流程定义：步骤 {s.code} 的 returns {target!r} 未知或不在其前")
    if not any(not s.next for s in steps):
        raise ProcessDefinitionError("审核流程定义：没有结束步骤")
    return ProcessDefinition(act_kind="legal_review", procedure="general", title=str(data.get("title", "")).strip(),
                             steps=tuple(steps), basis=_list(data.get("basis"), "basis"), source=path.name,
                             digest=hashlib.sha256(raw_bytes).hexdigest())


@functools.lru_cache(maxsize=1)
def definition() -> ProcessDefinition:
    return load_definition()


def can_move(from_code: str | None, to_code: str) -> bool:
    """Is `to_code` a stage the definition allows after `from_code`
    (None: the start)?"""
    d = definition()
    if from_code is None:
        return to_code == d.steps[0].code
    step = d.step(from_code)
    return to_code in step.next or to_code in step.returns


def stage_name(code: str) -> str:
    try:
        return definition().step(code).name
    except KeyError:
        return code
