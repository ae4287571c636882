"""`loaddemo`: load the Hebei demo data once and print what is there and how
to log in."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core.demo import DEFAULT_SEED, DemoConflict, load_demo

COUNT_LABELS = {
    "regions": "行政区划",
    "agencies": "执法部门",
    "legal_offices": "司法行政机关",
    "officers": "执法人员",
    "users": "用户",
    "audit_entries": "审计日志条目",
}


class Command(BaseCommand):
    help = "Load the demo data (Hebei regions, legal offices, agencies, officers, one login per role). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
        parser.add_argument("--quiet", action="store_true", help="print only the summary")

    def handle(self, *args, seed: int, quiet: bool, **options):
        started = time.monotonic()
        try:
            result = load_demo(stdout=None if quiet else self.stdout, seed=seed)
        except DemoConflict as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        if result.loaded:
            self.stdout.write(self.style.SUCCESS(f"演示数据已导入（{elapsed:.1f} 秒）。"))
        else:
            self.stdout.write("演示数据此前已导入，本次未作改动。")
        self.stdout.write("数据库现有：" + "，".join(
            f"{COUNT_LABELS.get(key, key)} {value}" for key, value in result.counts.items()))
        self.stdout.write("\n演示账号（密码均为同一演示密码，仅供演示，切勿用于生产）：")
        width = max(len(login.username) for login in result.logins)
        for login in result.logins:
            self.stdout.write(f"  {login.username.ljust(width)}  {login.password}  {login.role_label}：{login.sees}")
