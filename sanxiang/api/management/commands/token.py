"""`sanxiang token create|list|revoke`: API tokens of an agency's client systems."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sanxiang.api.models import ApiToken
from sanxiang.api.services import SCOPES, create_token, revoke_token, set_token_public_key
from sanxiang.core.management.commands.createuser import describe
from sanxiang.core.models import Agency


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("create", help="create a token (printed once)")
        c.add_argument("--agency", required=True, help="unified social credit code of the agency")
        c.add_argument("--name", required=True, help="which client system uses it")
        c.add_argument("--scopes", default="read", help="comma-separated: " + ",".join(SCOPES))
        ls = sub.add_parser("list", help="list tokens (prefix only)")
        ls.add_argument("--agency", default="")
        r = sub.add_parser("revoke", help="revoke a token by its prefix")
        r.add_argument("prefix")
        k = sub.add_parser("key", help="register the client system's public key (whpk_…) so it may sign its pushes")
        k.add_argument("prefix")
        k.add_argument("--key", default="", help="whpk_… (Standard Webhooks v1a, Ed25519); empty with --clear")
        k.add_argument("--clear", action="store_true", help="remove the key (unsigned pushes only)")

    def handle(self, *args, action, **options):
        if action == "create":
            agency = Agency.objects.filter(credit_code=options["agency"].strip().upper()).first()
            if agency is None:
                raise CommandError(f"--agency: no agency with credit code {options['agency']}")
            scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
            try:
                token, clear = create_token(actor="cli:token", agency=agency, name=options["name"], scopes=scopes)
            except ValidationError as exc:
                raise CommandError(describe(exc))
            self.stdout.write(f"Token for {agency.name} ({token.name}), scopes {','.join(token.scopes)}.")
            self.stdout.write("Copy it now; it is not stored and cannot be shown again:")
            self.stdout.write(clear)
        elif action == "list":
            qs = ApiToken.objects.select_related("agency")
            if options["agency"]:
                qs = qs.filter(agency__credit_code=options["agency"].upper())
            for t in qs:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(f"{t.prefix}  {state:<8} {t.agency.name}  {t.name}  {','.join(t.scopes)}")
        elif action == "key":
            token = ApiToken.objects.filter(prefix=options["prefix"]).first()
            if token is None:
                raise CommandError(f"no token with prefix {options['prefix']}")
            if not options["key"] and not options["clear"]:
                self.stdout.write(f"{token.prefix}: {token.public_key or 'no key (unsigned pushes only)'}")
                return
            try:
                set_token_public_key(actor="cli:token", token=token, public_key="" if options["clear"] else options["key"])
            except ValidationError as exc:
                raise CommandError(describe(exc))
            self.stdout.write(f"{token.prefix}: " + ("key removed" if options["clear"] else
                                                      "key registered; its pushes may now be signed (docs/docking.md)"))
        else:
            token = ApiToken.objects.filter(prefix=options["prefix"]).first()
            if token is None:
                raise CommandError(f"no token with prefix {options['prefix']}")
            revoke_token(actor="cli:token", token=token)
            self.stdout.write(f"Revoked {token.prefix}.")
