"""`sanxiang unlock USER [--ip ADDRESS]`: lift a login lock (django-axes)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sanxiang.core.services import unlock_login


class Command(BaseCommand):
    help = ("Lift the login lock after failed logins: of an account (USER), of an address (--ip), or of the pair "
            "(both). Recorded in the audit chain.")

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="")
        parser.add_argument("--ip", default="", help="the client address to unlock")

    def handle(self, *args, username, ip, **options):
        try:
            count = unlock_login(actor="cli:unlock", username=username, ip_address=ip)
        except ValidationError as exc:
            raise CommandError("give an account (USER) or an address (--ip)") from exc
        what = " and ".join(x for x in (f"account {username}" if username else "", f"address {ip}" if ip else "") if x)
        self.stdout.write(f"Unlocked {what}: {count} failed-login record(s) removed.")
