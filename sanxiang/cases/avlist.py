"""The AV list (音像记录事项清单), seed 记录-4: "明确进行音像记录的关键环节、记录方式
以及应进行全过程音像记录的现场执法活动和执法场所".

The platform's default list is data (``av_list.yaml`` next to this file);
each agency's own entries (``AvRequirement`` rows) add to it or replace the
default entry with the same key (act kind, step, place). Which steps need AV
is then answered by ``requirement_for_step``: the agency's merged list
first, the process definition's ``av`` flag as the fallback.

Plain Python apart from reading the agency's rows; no writes here
(``services.set_av_requirement`` writes, audited).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from sanxiang.catalog.processes import all_processes
from sanxiang.core.models import ActKind

from .models import AvCategory

DEFAULT_LIST = Path(__file__).resolve().parent / "av_list.yaml"
STEP_RE = re.compile(r"^([a-z][a-z0-9_]{0,31})?$")
ENTRY_KEYS = {"act_kind", "step", "step_name", "whole_process", "place", "device", "content", "category",
              "retention_years", "basis"}


class AvListError(ValueError):
    """The default AV list file is malformed; the message names the entry."""


@dataclass(frozen=True)
class AvEntry:
    act_kind: str
    step: str  # "" = every step carried out at `place` (case-handling premises)
    whole_process: bool
    place: str
    device: str
    content: str
    category: str
    retention_years: int | None  # None = permanent
    basis: str = ""
    required: bool = True
    source: str = "default"  # "default" (av_list.yaml) or "agency" (the agency's own entry)
    step_name: str = ""  # the step's Chinese name where no process definition has the step (强制拆除)

    @property
    def act_kind_label(self) -> str:
        return ActKind(self.act_kind).label

    @property
    def step_label(self) -> str:
        """The step's Chinese name from the act kind's process definitions
        (调查取证, not "investigation"); the code itself only if no
        definition names it."""
        return step_names(self.act_kind).get(self.step) or self.step_name or self.step

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.act_kind, self.step, self.place)

    def describe(self) -> str:
        """One line kept on the step: what AV is needed and why."""
        kind = "全过程音像记录" if self.whole_process else "音像记录"
        where = f"（{self.place}）" if self.place else ""
        return f"{kind}{where}：{self.content}"[:255]


def step_names(act_kind: str) -> dict[str, str]:
    """Step code -> Chinese name over every process definition of an act kind."""
    names: dict[str, str] = {}
    for definition in all_processes():
        if definition.act_kind == act_kind:
            for step in definition.steps:
                names.setdefault(step.code, step.name)
    return names


def _entry(raw, index: int, path: Path) -> AvEntry:
    where = f"{path.name} 第{index}项"
    if not isinstance(raw, dict):
        raise AvListError(f"{where}：必须是映射")
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise AvListError(f"{where}：未知字段 {', '.join(sorted(unknown))}")
    if raw.get("act_kind") not in ActKind.values:
        raise AvListError(f"{where}：act_kind {raw.get('act_kind')!r} 无效")
    step = raw.get("step") or ""
    if not isinstance(step, str) or not STEP_RE.match(step):
        raise AvListError(f"{where}：step {step!r} 无效")
    if raw.get("category") not in AvCategory.values:
        raise AvListError(f"{where}：category {raw.get('category')!r} 无效（scene、interview、confirmation）")
    if not isinstance(raw.get("whole_process"), bool):
        raise AvListError(f"{where}：whole_process 必须是 true 或 false")
    for field in ("content",):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise AvListError(f"{where}：缺少 {field}")
    if not step and not (raw.get("place") or "").strip():
        raise AvListError(f"{where}：未指定环节的条目必须写明场所（place）")
    years = raw.get("retention_years")
    if years is not None and (not isinstance(years, int) or isinstance(years, bool) or years <= 0):
        raise AvListError(f"{where}：retention_years 必须是正整数，或 null 表示永久")
    return AvEntry(
        act_kind=raw["act_kind"], step=step, whole_process=raw["whole_process"], place=(raw.get("place") or "").strip(),
        device=(raw.get("device") or "").strip(), content=raw["content"].strip(), category=raw["category"],
        retention_years=years, basis=(raw.get("basis") or "").strip(), step_name=str(raw.get("step_name") or "").strip(),
    )


def load_default_list(path: Path | str | None = None) -> tuple[AvEntry, ...]:
    path = Path(path) if path else DEFAULT_LIST
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise AvListError(f"{path.name}：顶层必须是 entries 列表")
    entries = tuple(_entry(raw, i, path) for i, raw in enumerate(data["entries"], start=1))
    keys = [e.key for e in entries]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise AvListError(f"{path.name}：重复的条目 {sorted(duplicates)}")
    return entries


@functools.lru_cache(maxsize=1)
def default_list() -> tuple[AvEntry, ...]:
    return load_default_list()


def entry_from_row(row) -> AvEntry:
    return AvEntry(
        act_kind=row.act_kind, step=row.step_code, whole_process=row.whole_process, place=row.place, device=row.device,
        content=row.content, category=row.category, retention_years=row.retention_years, required=row.required,
        basis="本部门音像记录事项清单", source="agency",
    )


def merged_list(agency) -> list[AvEntry]:
    """The agency's AV list: the defaults with its own entries laid over them."""
    from .models import AvRequirement

    merged = {e.key: e for e in default_list()}
    if agency is not None:
        for row in AvRequirement.objects.filter(agency=agency):
            merged[(row.act_kind, row.step_code, row.place)] = entry_from_row(row)
    return sorted(merged.values(), key=lambda e: (e.act_kind, e.step, e.place))


def requirement_for_step(*, agency, act_kind: str, step_code: str, definition_av: bool,
                         at_premises: bool = False) -> AvEntry | None:
    """What AV a step needs, or None. An entry of the agency's list for the
    step wins (it may also say AV is not required); an entry for the place
    (no step) applies when the step is carried out in the case-handling
    premises; otherwise the process definition's ``av`` flag decides."""
    entries = [e for e in merged_list(agency) if e.act_kind == act_kind]
    if at_premises:
        for e in entries:
            if not e.step and e.required:
                return e
    step_entries = [e for e in entries if e.step == step_code]
    if step_entries:
        required = [e for e in step_entries if e.required]
        # A whole-process entry says more than a key-moment one.
        required.sort(key=lambda e: not e.whole_process)
        return required[0] if required else None
    if definition_av:
        return AvEntry(act_kind=act_kind, step=step_code, whole_process=False, place="", device="",
                       content="流程图标明须音像记录的环节", category=AvCategory.SCENE, retention_years=None,
                       basis="流程定义", source="process")
    return None
