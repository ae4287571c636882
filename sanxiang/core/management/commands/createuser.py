"""`sanxiang createuser`: create an account with a role and its scope."""

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sanxiang.core.models import Agency, Region, Role
from sanxiang.core.services import create_user


def describe(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(e.messages)}" for field, errs in exc.error_dict.items() for e in errs)
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create a user with a role. Roles: " + ", ".join(Role.values)

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--agency", default="", help="the agency's unified social credit code (agency roles)")
        parser.add_argument("--region", default="", help="GB/T 2260 code of the supervised region (legal-office supervisors)")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--password-env", default="SANXIANG_NEW_PASSWORD",
                            help="environment variable holding the password (otherwise asked for)")

    def handle(self, *args, username, role, agency, region, display_name, password_env, **options):
        agency_obj = region_obj = None
        if agency:
            agency_obj = Agency.objects.filter(credit_code=agency.strip().upper()).first()
            if agency_obj is None:
                raise CommandError(f"--agency: no agency with credit code {agency}")
        if region:
            region_obj = Region.objects.filter(code=region.strip()).first()
            if region_obj is None:
                raise CommandError(f"--region: no region with code {region}")
        password = os.environ.get(password_env) or getpass.getpass("Password: ")
        try:
            user = create_user(actor="cli:createuser", username=username, password=password, role=role,
                               agency=agency_obj, region=region_obj, display_name=display_name)
        except ValidationError as exc:
            raise CommandError(describe(exc))
        self.stdout.write(f"Created {user.username} ({user.get_role_display()}).")
