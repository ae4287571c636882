"""`sanxiang calendar ...`: load an official holiday schedule, compute
deadlines, show a year's schedule. See docs/calendar.md."""

from __future__ import annotations

import datetime as dt
import getpass
import re

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from sanxiang.core import calendar
from sanxiang.core import clock


def _parse_count(text: str) -> int:
    """An integer; its range is checked by the calendar functions."""
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"天数无效：{text!r}，应为非负整数。") from None


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def _ranges(days) -> list[tuple[str, dt.date, dt.date]]:
    """Group consecutive days with the same name: [(name, first, last)]."""
    groups: list[tuple[str, dt.date, dt.date]] = []
    for day in days:
        if groups and groups[-1][0] == day.name and groups[-1][2] + dt.timedelta(days=1) == day.date:
            groups[-1] = (day.name, groups[-1][1], day.date)
        else:
            groups.append((day.name, day.date, day.date))
    return groups


class Command(BaseCommand):
    help = "官方工作日历：载入国务院放假安排、计算期限、查看某年安排。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load,add-working-days,add-calendar-days,show}")
        load = sub.add_parser("load", help="载入某一年的官方放假安排（YAML 或 JSON 文件）；重复载入会整体替换该年。")
        load.add_argument("file")
        for name, text in (
            ("add-working-days", "输出 DATE 之后第 N 个工作日（起算日不计入）。"),
            ("add-calendar-days", "输出 DATE 加 N 个自然日；期满日为节假日或休息日的，顺延至下一个工作日。"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("date", metavar="DATE")
            p.add_argument("n", metavar="N")
        show = sub.add_parser("show", help="列出某年的放假日、调休上班日及其是否为官方安排。")
        show.add_argument("year", metavar="YEAR")

    def handle(self, *args, action: str, **options):
        try:
            if action == "load":
                self._load(options["file"])
            elif action == "add-working-days":
                deadline = calendar.add_working_days(start=calendar.parse_date(options["date"]), days=_parse_count(options["n"]))
                self.stdout.write(str(deadline))
            elif action == "add-calendar-days":
                deadline = calendar.add_calendar_days(start=calendar.parse_date(options["date"]), days=_parse_count(options["n"]))
                self.stdout.write(str(deadline))
            elif action == "show":
                self._show(options["year"])
        except (ValueError, TypeError, OverflowError) as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(
                f"无法读取数据库（{exc}）。如尚未建表，请先运行 sanxiang migrate。"
            ) from None

    def _load(self, path: str) -> None:
        try:
            year = calendar.load_schedule(path=path, actor=_cli_actor())
        except ValidationError as exc:
            lines = [f"  {field}：{message}" for field, messages in exc.message_dict.items() for message in messages]
            raise CommandError(f"放假安排文件 {path} 有误，未载入任何内容：\n" + "\n".join(lines)) from None
        days = list(year.days.all())
        holidays = sum(1 for d in days if not d.is_workday)
        self.stdout.write(
            f"已载入 {year.year} 年官方放假安排（来源：{year.source}）：放假 {holidays} 天，调休上班 {len(days) - holidays} 天。"
        )
        self.stdout.write(f"已按新安排重新计算暂定期限 {sum(year.recomputed.values())} 项（有变化的已记入审计日志）。")

    def _show(self, text: str) -> None:
        if not re.fullmatch(r"\d{4}", text):
            raise CommandError(f"年份无效：{text!r}，应为四位数字，如 2027。")
        schedule = calendar.year_schedule(year=int(text))
        status = "官方安排" if schedule.official else "非官方（临时按周一至周五计算，期限标注 provisional）"
        self.stdout.write(f"{schedule.year} 年：{status}")
        self.stdout.write(f"来源：{schedule.source}")
        if schedule.loaded_at is not None:
            self.stdout.write(f"载入时间：{clock.local_time(schedule.loaded_at):%Y-%m-%d %H:%M}")
        if not schedule.official:
            return
        self.stdout.write("放假：")
        for name, first, last in _ranges(schedule.holidays):
            span = first.isoformat() if first == last else f"{first} 至 {last}（{(last - first).days + 1} 天）"
            self.stdout.write(f"  {name or '（未命名）'}  {span}")
        self.stdout.write("调休上班：")
        if not schedule.workdays:
            self.stdout.write("  无")
        for day in schedule.workdays:
            self.stdout.write(f"  {day.name or '（未命名）'}  {day.date}（{calendar.weekday_name(day.date)}）")
