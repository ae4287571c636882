"""Enforcement process definitions as data, and the flowchart drawn from them.

Seed 公示-6 asks every agency to publish a flowchart of each kind of
enforcement act, "including what each step records, how and on what". The
flowchart is not drawn by hand: it is rendered from the same YAML definition
(``sanxiang/catalog/processes/<act_kind>-<procedure>.yaml``) that case
handling enforces, so what the public reads is what the software does.

    from sanxiang.catalog.processes import get_process, render_flowchart_svg
    definition = get_process("penalty", "general")
    [s.code for s in definition.steps]   # ["opening", "investigation", ...]
    svg = render_flowchart_svg(definition)

File format (docs/catalog.md): act_kind, procedure, title, basis (list of
references), steps: list of {code, name, records, av, optional, condition,
next, returns, time_limit_rule, basis}. ``next`` edges must go forward (the
steps are listed in procedure order, and a cycle is refused); going back is
written explicitly in ``returns``. ``time_limit_rule`` names a dated rule of
``sanxiang/rules/params``. Any problem raises ProcessDefinitionError naming
the file and the step.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import yaml
from sanxiang.core import clock
from sanxiang.core.vocabulary import ActKind

PROCESSES_DIR = Path(__file__).resolve().parent / "processes"

# The kinds of enforcement act (执法行为类别, core.vocabulary).
ACT_KINDS = tuple(ActKind.values)
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
STEP_KEYS = {"code", "name", "records", "av", "optional", "condition", "next", "returns", "time_limit_rule",
             "time_limit_note", "basis"}
TOP_KEYS = {"act_kind", "procedure", "title", "basis", "steps"}


class ProcessDefinitionError(ValueError):
    """A process definition file is malformed; the message names the file and step."""


class ProcessNotFound(LookupError):
    """No definition exists for the act kind and procedure asked."""


@dataclass(frozen=True)
class Step:
    code: str
    name: str
    records: tuple[str, ...]  # documents (文书) and records this step produces
    av: bool  # audio/video recording required at this step (音像记录)
    optional: bool = False
    condition: str = ""  # when the step happens, if not always
    next: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()  # explicit ways back to an earlier step
    time_limit_rule: str | None = None  # a rule name in sanxiang/rules/params
    time_limit_note: str = ""  # what the limit counts, e.g. "自立案之日起"
    basis: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcessDefinition:
    act_kind: str
    procedure: str
    title: str
    steps: tuple[Step, ...]
    basis: tuple[str, ...] = ()
    source: str = ""  # file name
    digest: str = ""  # SHA-256 of the file's bytes: which text a filing saw

    @property
    def key(self) -> tuple[str, str]:
        return (self.act_kind, self.procedure)

    def step(self, code: str) -> Step:
        for s in self.steps:
            if s.code == code:
                return s
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.steps)

    def as_dict(self) -> dict:
        return {
            "act_kind": self.act_kind, "procedure": self.procedure, "title": self.title, "basis": list(self.basis),
            "digest": self.digest,
            "steps": [
                {"code": s.code, "name": s.name, "records": list(s.records), "av": s.av, "optional": s.optional,
                 "condition": s.condition, "next": list(s.next), "returns": list(s.returns),
                 "time_limit_rule": s.time_limit_rule, "time_limit_note": s.time_limit_note, "basis": list(s.basis)}
                for s in self.steps
            ],
        }


# --------------------------------------------------------------------------
# Loading and validation


def _fail(path: Path, message: str, step: str | None = None) -> ProcessDefinitionError:
    where = f"{path.name}" + (f"，步骤 {step}" if step else "")
    return ProcessDefinitionError(f"流程定义 {where}：{message}")


def _str_list(value, path: Path, field: str, step: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, f"{field} 必须是非空文字的列表", step)
    return tuple(v.strip() for v in value)


def _known_rule_names() -> set[str]:
    from sanxiang.rules import all_rules

    return {r.name for r in all_rules()}


def load_process_file(path: Path | str, *, rule_names: set[str] | None = None) -> ProcessDefinition:
    """Read and validate one definition file."""
    path = Path(path)
    raw_bytes = path.read_bytes()
    try:
        data = yaml.safe_load(raw_bytes.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _fail(path, f"不是有效的 YAML（{exc}）") from None
    if not isinstance(data, dict):
        raise _fail(path, "顶层必须是映射（act_kind、procedure、title、steps）")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(path, f"未知字段 {', '.join(sorted(unknown))}")
    act_kind, procedure, title = data.get("act_kind"), data.get("procedure"), data.get("title")
    if act_kind not in ACT_KINDS:
        raise _fail(path, f"act_kind {act_kind!r} 无效（允许：{', '.join(ACT_KINDS)}）")
    if not isinstance(procedure, str) or not CODE_RE.match(procedure):
        raise _fail(path, f"procedure {procedure!r} 无效（小写字母、数字、下划线）")
    if path.stem != f"{act_kind}-{procedure}":
        raise _fail(path, f"文件名应为 {act_kind}-{procedure}.yaml")
    if not isinstance(title, str) or not title.strip():
        raise _fail(path, "缺少 title（中文标题）")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise _fail(path, "steps 必须是非空列表")
    rule_names = _known_rule_names() if rule_names is None else rule_names

    steps: list[Step] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_steps, start=1):
        label = f"第{i}步"
        if not isinstance(raw, dict):
            raise _fail(path, "每一步必须是映射", label)
        code = raw.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            raise _fail(path, f"code {code!r} 无效（小写字母开头，字母、数字、下划线）", label)
        label = code
        if code in seen:
            raise _fail(path, "code 重复", label)
        seen.add(code)
        unknown = set(raw) - STEP_KEYS
        if unknown:
            raise _fail(path, f"未知字段 {', '.join(sorted(unknown))}", label)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(path, "缺少 name（环节名称）", label)
        records = _str_list(raw.get("records"), path, "records", label)
        if not records:
            raise _fail(path, "records 不能为空：每个环节都须写明记录的内容（公示-6）", label)
        for flag in ("av", "optional"):
            if flag in raw and not isinstance(raw[flag], bool):
                raise _fail(path, f"{flag} 必须是 true 或 false", label)
        if "av" not in raw:
            raise _fail(path, "缺少 av（是否须音像记录）", label)
        condition = raw.get("condition") or ""
        if not isinstance(condition, str):
            raise _fail(path, "condition 必须是文字", label)
        rule = raw.get("time_limit_rule")
        if rule is not None and (not isinstance(rule, str) or rule not in rule_names):
            raise _fail(path, f"time_limit_rule {rule!r} 不是已定义的法定参数（见 sanxiang rules list）", label)
        note = raw.get("time_limit_note") or ""
        if not isinstance(note, str) or (note and not rule):
            raise _fail(path, "time_limit_note 必须是文字，且须与 time_limit_rule 同时使用", label)
        steps.append(Step(
            code=code, name=name.strip(), records=records, av=raw["av"], optional=raw.get("optional", False),
            condition=condition.strip(), next=_str_list(raw.get("next"), path, "next", label),
            returns=_str_list(raw.get("returns"), path, "returns", label), time_limit_rule=rule, time_limit_note=note.strip(),
            basis=_str_list(raw.get("basis"), path, "basis", label),
        ))

    _check_graph(path, steps)
    return ProcessDefinition(
        act_kind=act_kind, procedure=procedure, title=title.strip(), steps=tuple(steps),
        basis=_str_list(data.get("basis"), path, "basis", None), source=path.name,
        digest=hashlib.sha256(raw_bytes).hexdigest(),
    )


def _check_graph(path: Path, steps: list[Step]) -> None:
    """next codes known; no cycle through next; steps listed in order; every
    step reachable from the first; returns point back; a final step exists."""
    index = {s.code: i for i, s in enumerate(steps)}
    for s in steps:
        for target in s.next:
            if target not in index:
                raise _fail(path, f"next 指向未知步骤 {target!r}", s.code)
        for target in s.returns:
            if target not in index:
                raise _fail(path, f"returns 指向未知步骤 {target!r}", s.code)
            if index[target] >= index[s.code]:
                raise _fail(path, f"returns 只能退回到前面的步骤，{target!r} 不在其前", s.code)
        if len(set(s.next)) != len(s.next):
            raise _fail(path, "next 中有重复的步骤", s.code)

    # A cycle through `next` (going back must be written in `returns`).
    state: dict[str, int] = {}
    by_code = {s.code: s for s in steps}

    def visit(code: str, trail: list[str]) -> None:
        state[code] = 1
        for target in by_code[code].next:
            if state.get(target) == 1:
                loop = trail[trail.index(target):] + [code, target] if target in trail else [code, target]
                raise _fail(path, f"next 形成回路（{' → '.join(loop)}）；退回请写在 returns 中", code)
            if state.get(target) is None:
                visit(target, trail + [code])
        state[code] = 2

    for s in steps:
        if s.code not in state:
            visit(s.code, [])

    for s in steps:
        for target in s.next:
            if index[target] <= index[s.code]:
                raise _fail(path, f"next 指向前面的步骤 {target!r}：请按办理顺序排列步骤", s.code)

    reachable = {steps[0].code}
    for s in steps:  # listed in order, so one pass suffices
        if s.code in reachable:
            reachable.update(s.next)
    for s in steps:
        if s.code not in reachable:
            raise _fail(path, "从第一步出发无法到达此步骤", s.code)
    if not any(not s.next for s in steps):
        raise _fail(path, "没有结束步骤（next 为空的步骤）")
    first = steps[0]
    if first.optional:
        raise _fail(path, "第一步不能是可选步骤", first.code)


def load_processes(directory: Path | str | None = None) -> dict[tuple[str, str], ProcessDefinition]:
    """Load every ``*.yaml`` definition of a directory (default: processes/)."""
    directory = Path(directory) if directory else PROCESSES_DIR
    rule_names = _known_rule_names()
    result: dict[tuple[str, str], ProcessDefinition] = {}
    for path in sorted(directory.glob("*.yaml")):
        definition = load_process_file(path, rule_names=rule_names)
        if definition.key in result:
            raise _fail(path, f"与 {result[definition.key].source} 重复定义 {definition.key}")
        result[definition.key] = definition
    return result


@functools.lru_cache(maxsize=1)
def _registry() -> dict[tuple[str, str], ProcessDefinition]:
    return load_processes()


def reload_processes() -> None:
    _registry.cache_clear()


def all_processes() -> list[ProcessDefinition]:
    return [d for _, d in sorted(_registry().items())]


def get_process(act_kind: str, procedure: str = "general") -> ProcessDefinition:
    """The definition case handling enforces and the flowchart shows."""
    try:
        return _registry()[(act_kind, procedure)]
    except KeyError:
        raise ProcessNotFound(f"没有 {act_kind}-{procedure} 的流程定义") from None


def process_choices() -> list[tuple[str, str]]:
    """("penalty-general", "行政处罚一般程序流程图") pairs for forms."""
    return [(f"{d.act_kind}-{d.procedure}", d.title) for d in all_processes()]


# --------------------------------------------------------------------------
# Flowchart SVG: pure string building, vertical, phone-readable.

FONT_FAMILY = 'system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'
UNIT_LABELS = {"working_days": "个工作日", "calendar_days": "日（自然日）", "months": "个月", "years": "年",
               "hours": "小时", "yuan": "元", "percent": "%", "count": ""}

BOX_W = 300
LEFT = 34  # room for return arrows on the left
PAD = 10
TITLE_SIZE = 15
TEXT_SIZE = 13
LINE = 18
GAP = 34
LANE_W = 11
RED, INK, MUTED, LINE_COLOUR = "#b3261e", "#1b1b1b", "#5f6368", "#9aa0a6"


NO_LINE_START = set("）】》」』、，。；：！？)]},.;:!?")


def _text_width(text: str, size: float) -> float:
    return sum(size if ord(ch) > 0x2E7F else size * 0.58 for ch in text)


def _wrap(text: str, size: float, width: float) -> list[str]:
    lines, current = [], ""
    for ch in text:
        # Closing punctuation never starts a line (禁则): it stays with the text before.
        if _text_width(current + ch, size) > width and current and ch not in NO_LINE_START:
            lines.append(current)
            current = ch
        else:
            current += ch
    if current:
        lines.append(current)
    return lines or [""]


def _time_limit_text(rule_name: str, on: date, agency) -> str:
    from sanxiang.rules import RuleError, get_rule

    try:
        value = get_rule(rule_name, on=on, agency=agency)
    except RuleError:
        return ""
    return f"{value.value}{UNIT_LABELS.get(value.unit, value.unit)}"


@dataclass
class _Box:
    step: Step
    number: int
    y: float
    lines: list[tuple[str, str]]  # (css class, text)
    height: float = 0.0


def render_flowchart_svg(definition: ProcessDefinition, *, on: date | None = None, agency=None) -> str:
    """A vertical flowchart of the definition as a standalone SVG document.

    Every step is one box (``data-step`` = its code) with its name, the
    condition of an optional step, the records it makes, its time limit (the
    rule's value on ``on`` for ``agency``) and a red 音像 mark where AV
    recording is required. Optional steps and the arrows into them are
    dashed; ``returns`` are dashed arrows on the left.
    """

    on = on or clock.today()
    boxes: list[_Box] = []
    y = 64.0
    text_w = BOX_W - 2 * PAD
    for number, step in enumerate(definition.steps, start=1):
        lines: list[tuple[str, str]] = []
        if step.optional or step.condition:
            for part in _wrap(f"条件：{step.condition or '视情况'}", TEXT_SIZE, text_w):
                lines.append(("cond", part))
        for record in step.records:
            for k, part in enumerate(_wrap(record, TEXT_SIZE, text_w - 14)):
                lines.append(("rec" if k == 0 else "rec2", part))
        if step.time_limit_rule:
            limit = _time_limit_text(step.time_limit_rule, on, agency)
            if limit:
                note = f"（{step.time_limit_note}）" if step.time_limit_note else ""
                for part in _wrap(f"时限：{limit}{note}", TEXT_SIZE, text_w):
                    lines.append(("limit", part))
        box = _Box(step=step, number=number, y=y, lines=lines)
        box.height = PAD + TITLE_SIZE + 8 + LINE * len(lines) + PAD - 4
        boxes.append(box)
        y += box.height + GAP
    index = {b.step.code: i for i, b in enumerate(boxes)}

    # Forward edges that skip boxes run in lanes on the right; give each a
    # lane not used by an overlapping edge.
    skips: list[tuple[int, int]] = []
    for i, b in enumerate(boxes):
        for target in b.step.next:
            j = index[target]
            if j != i + 1:
                skips.append((i, j))
    lanes: list[list[tuple[int, int]]] = []
    lane_of: dict[tuple[int, int], int] = {}
    for edge in sorted(skips, key=lambda e: (e[1] - e[0], e[0])):
        for n, used in enumerate(lanes):
            if all(edge[1] <= a or edge[0] >= b for a, b in used):
                used.append(edge)
                lane_of[edge] = n
                break
        else:
            lanes.append([edge])
            lane_of[edge] = len(lanes) - 1
    width = LEFT + BOX_W + 10 + LANE_W * max(len(lanes), 1) + 6
    height = y - GAP + 40
    x0 = LEFT
    right = x0 + BOX_W

    out: list[str] = []
    title = escape(definition.title)
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
        f'preserveAspectRatio="xMidYMin meet" role="img" aria-labelledby="fc-title" class="flowchart" '
        f'data-process="{escape(definition.act_kind)}-{escape(definition.procedure)}" style="max-width:{width:.0f}px">'
    )
    out.append(f'<title id="fc-title">{title}</title>')
    out.append(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
        f"orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{INK}\"/></marker></defs>"
    )
    out.append(
        f"<style>text{{font-family:{escape(FONT_FAMILY)};fill:{INK}}}.t{{font-size:{TITLE_SIZE}px;font-weight:700}}"
        f".s{{font-size:{TEXT_SIZE}px}}.m{{fill:{MUTED}}}.c{{fill:{MUTED};font-style:italic}}.av{{fill:{RED};font-weight:700}}"
        f".h{{font-size:17px;font-weight:700}}.box{{fill:#fff;stroke:{INK};stroke-width:1.4}}"
        f".opt{{stroke-dasharray:6 4;fill:#fafafa}}.e{{fill:none;stroke:{INK};stroke-width:1.3}}"
        f".d{{stroke-dasharray:5 4}}.r{{stroke:{MUTED}}}</style>"
    )
    out.append(f'<text class="h" x="{width / 2:.0f}" y="26" text-anchor="middle">{title}</text>')
    out.append(
        f'<text class="s m" x="{width / 2:.0f}" y="46" text-anchor="middle">'
        f'虚线为视情况进行的环节；<tspan class="av">●音像</tspan>表示须音像记录</text>'
    )

    # Edges first, so boxes are drawn over their ends.
    exits: dict[int, int] = {}
    entries: dict[int, int] = {}
    for i, b in enumerate(boxes):
        for target in b.step.next:
            j = index[target]
            dashed = " d" if boxes[j].step.optional else ""
            if j == i + 1:
                cx = x0 + BOX_W / 2
                out.append(f'<path class="e{dashed}" d="M{cx:.0f},{b.y + b.height:.1f} V{boxes[j].y - 1:.1f}" marker-end="url(#arrow)"/>')
            else:
                lane_x = right + 10 + LANE_W * lane_of[(i, j)]
                k = exits.get(i, 0)
                exits[i] = k + 1
                y1 = b.y + b.height - 8 - 8 * k
                m = entries.get(j, 0)
                entries[j] = m + 1
                y2 = boxes[j].y + 12 + 8 * m
                out.append(f'<path class="e{dashed}" d="M{right:.0f},{y1:.1f} H{lane_x:.0f} V{y2:.1f} H{right + 1:.0f}" marker-end="url(#arrow)"/>')
    for i, b in enumerate(boxes):
        for n, target in enumerate(b.step.returns):
            j = index[target]
            lane_x = x0 - 12 - 8 * n
            y1 = b.y + b.height / 2
            y2 = boxes[j].y + boxes[j].height / 2
            out.append(f'<path class="e d r" d="M{x0:.0f},{y1:.1f} H{lane_x:.0f} V{y2:.1f} H{x0 - 1:.0f}" marker-end="url(#arrow)"/>')
            mid = (y1 + y2) / 2
            out.append(f'<text class="s m" text-anchor="middle"><tspan x="{lane_x - 10:.0f}" y="{mid - 2:.0f}">退</tspan>'
                       f'<tspan x="{lane_x - 10:.0f}" y="{mid + 13:.0f}">回</tspan></text>')

    for b in boxes:
        s = b.step
        cls = "box opt" if s.optional else "box"
        av_attr = ' data-av="1"' if s.av else ""
        out.append(f'<g data-step="{escape(s.code)}"{av_attr}>')
        out.append(f'<rect class="{cls}" x="{x0}" y="{b.y:.1f}" width="{BOX_W}" height="{b.height:.1f}" rx="6"/>')
        ty = b.y + PAD + TITLE_SIZE - 2
        out.append(f'<text class="t" x="{x0 + PAD}" y="{ty:.1f}">{b.number}. {escape(s.name)}</text>')
        if s.av:
            out.append(f'<text class="s av" x="{right - PAD}" y="{ty:.1f}" text-anchor="end">●音像</text>')
        ly = ty + 6
        for kind, text in b.lines:
            ly += LINE
            if kind == "cond":
                out.append(f'<text class="s c" x="{x0 + PAD}" y="{ly:.1f}">{escape(text)}</text>')
            elif kind == "rec":
                out.append(f'<text class="s" x="{x0 + PAD}" y="{ly:.1f}">· {escape(text)}</text>')
            elif kind == "rec2":
                out.append(f'<text class="s" x="{x0 + PAD + 14}" y="{ly:.1f}">{escape(text)}</text>')
            else:
                out.append(f'<text class="s m" x="{x0 + PAD}" y="{ly:.1f}">{escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
