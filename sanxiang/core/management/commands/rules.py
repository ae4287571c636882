"""`sanxiang rules list | show NAME | check`: the legal parameters (time
limits, thresholds, ratios) kept as dated data in sanxiang/rules/params/."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from sanxiang.rules import loader
from sanxiang.rules.loader import Rule, RuleError, RuleNotFound, RuleValue
from sanxiang.core import clock

UNIT_LABELS = {
    "working_days": "个工作日",
    "calendar_days": "日（自然日）",
    "months": "个月",
    "years": "年",
    "hours": "小时",
    "yuan": "元",
    "percent": "%",
    "count": "",
    "roles": "",
}


def format_value(value: RuleValue) -> str:
    if isinstance(value.value, tuple):  # a list unit (roles): the names
        return "、".join(value.value)
    if value.permanent:
        return "永久"
    label = UNIT_LABELS.get(value.unit, value.unit)
    return f"{value.value}{label}".strip()


def parse_date(text: str | None) -> date:
    if not text:
        return clock.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期 {text!r} 无效，应为 YYYY-MM-DD。") from None


class Command(BaseCommand):
    help = "法定参数（期限、金额标准、比例）：list 列出、show 查看、check 校验。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,show,check}")

        p_list = sub.add_parser("list", help="列出全部参数及其在某日、某地区适用的取值、单位和依据。")
        self._add_scope_arguments(p_list)

        p_show = sub.add_parser("show", help="查看一个参数：适用的取值及全部历史取值、范围和依据。")
        p_show.add_argument("name", help="参数名，如 publicity.penalty_publication_limit")
        self._add_scope_arguments(p_show)

        p_check = sub.add_parser("check", help="加载并校验全部参数文件，有错误时以非零状态退出。")
        p_check.add_argument(
            "--dir", action="append", dest="dirs", default=None,
            help="要校验的参数目录（可重复；默认：sanxiang/rules/params）",
        )

    @staticmethod
    def _add_scope_arguments(parser):
        parser.add_argument("--date", help="查询日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--agency", help="执法主体统一社会信用代码（18位）")
        parser.add_argument("--region", help="行政区划代码（6位，或9位乡级）")

    def handle(self, *args, **options):
        action = options["action"]
        try:
            if action == "check":
                return self._check(options)
            if action == "list":
                return self._list(options)
            return self._show(options)
        except RuleError as exc:
            raise CommandError(str(exc)) from None

    # -- scope resolution ------------------------------------------------

    def _agency(self, code: str | None, region_code: str | None):
        """An object for get_rule: the credit code plus, when known, its region."""
        if not code:
            return None
        from sanxiang.core.validators import check_credit_code

        problem = check_credit_code(code)
        if problem:
            raise CommandError(problem[1])
        if region_code:
            return code
        try:
            from sanxiang.core.models import Agency

            agency = Agency.objects.select_related("region").filter(credit_code=code).first()
        except DatabaseError:
            agency = None
        if agency is None:
            self.stderr.write(f"提示：数据库中未找到执法主体 {code}，仅按其信用代码和全国取值查找（可加 --region）。")
            return code
        return SimpleNamespace(credit_code=agency.credit_code, region=SimpleNamespace(code=agency.region.code))

    # -- actions -----------------------------------------------------------

    def _check(self, options):
        dirs = options.get("dirs") or []
        ruleset = loader.load_rules(*dirs)
        count = sum(len(r.values) for r in ruleset.all())
        where = "、".join(str(d) for d in ruleset.directories)
        self.stdout.write(f"校验通过：{len(ruleset)} 个参数，{count} 个取值（{where}）。")

    def _list(self, options):
        on = parse_date(options.get("date"))
        region = options.get("region")
        agency = self._agency(options.get("agency"), region)
        rules = loader.all_rules()
        rows = []
        for rule in rules:
            try:
                value = loader.get_rule(rule.name, on=on, agency=agency, region_code=region)
            except RuleNotFound:
                scopes = "、".join(s for s in rule.scopes())
                rows.append((rule.name, f"—（无适用取值；已定义范围：{scopes}）", rule.unit, ""))
                continue
            shown = format_value(value)
            if value.scope != "national":
                shown += f" [{value.scope}]"
            rows.append((rule.name, shown, value.unit, value.reference))
        self.stdout.write(f"法定参数（{on.isoformat()}）：{len(rows)} 个")
        name_w = max(len(r[0]) for r in rows)
        for name, shown, unit, reference in rows:
            self.stdout.write(f"{name.ljust(name_w)}  {shown}  ({unit})  {reference}".rstrip())

    def _show(self, options):
        on = parse_date(options.get("date"))
        region = options.get("region")
        agency = self._agency(options.get("agency"), region)
        rule: Rule = loader.rule_definition(options["name"])
        self.stdout.write(f"{rule.name}（{rule.source}）")
        self.stdout.write(f"说明：{rule.description}")
        self.stdout.write(f"单位：{rule.unit}")
        try:
            chosen = loader.get_rule(rule.name, on=on, agency=agency, region_code=region)
        except RuleNotFound as exc:
            chosen = None
            self.stdout.write(f"{on.isoformat()} 适用：无（{exc}）")
        else:
            self.stdout.write(
                f"{on.isoformat()} 适用：{format_value(chosen)}（{chosen.unit}；范围 {chosen.scope}；"
                f"自 {chosen.valid_from.isoformat()}；依据 {chosen.reference}）"
            )
        self.stdout.write("全部取值：")
        for v in sorted(rule.values, key=lambda v: (loader.scope_sort_key(v.scope), v.valid_from)):
            mark = "*" if v == chosen else " "
            self.stdout.write(
                f" {mark} {v.valid_from.isoformat()}  {v.scope:<27}  {format_value(v)} ({v.unit})  {v.reference}"
            )
        if chosen is None:
            raise CommandError(f"参数 {rule.name} 在 {on.isoformat()} 没有适用的取值。")
