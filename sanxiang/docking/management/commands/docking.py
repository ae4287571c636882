"""`sanxiang docking …`: docking between platforms from the command line
(公示-18; docs/docking.md). Every change goes through the docking services
(checked, audited); the console is the operator.

  sanxiang docking key
      This platform's public key (whpk_…), to give to the platform above.
  sanxiang docking register CODE --name NAME --key whpk_… [--region CODE ...] [--agency CREDIT_CODE ...] [--endpoint URL]
      Put a lower platform on the trust list, with what it may speak for.
  sanxiang docking rotate-key CODE --key whpk_… [--overlap-days 7]
      Add the lower platform's new key; its older keys stay valid for the overlap.
  sanxiang docking deactivate CODE | activate CODE
      Stop receiving from a lower platform (it is answered 410 Gone and stops
      sending), or receive again.
  sanxiang docking instances
      The trust list: each platform, its regions, agencies, keys and last message.
  sanxiang docking upstream [--url URL --as CODE] [--enable]
      Show or set the platform above and this platform's code there;
      --enable sends again after the platform above answered 410.
  sanxiang docking deliver
      Send what is due now (the job queue does it by itself).
  sanxiang docking outbox [--all]
      Messages not (yet) delivered: state, attempts, last error.
  sanxiang docking retry MSG_ID
      Send an undeliverable or refused message again.
  sanxiang docking reconcile
      Reconcile with the platform above now (the job docking.reconcile does
      it daily): counts and hashes per agency and day; the objects the
      platform above lacks or holds older are sent again.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sanxiang.docking import keys, reconcile, services, webhooks
from sanxiang.docking.models import Instance, OutboxMessage, OutboxState

CONSOLE = "console:docking"


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return "; ".join(exc.messages)


class Command(BaseCommand):
    help = "Docking between platforms: this platform's key, the trust list, the upstream and the outbox."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("key", help="this platform's public key (whpk_…)")
        register = sub.add_parser("register", help="put a lower platform on the trust list")
        register.add_argument("code")
        register.add_argument("--name", required=True)
        register.add_argument("--key", required=True, help="its public key, whpk_…")
        register.add_argument("--region", action="append", default=[], help="a region code it speaks for (repeatable)")
        register.add_argument("--agency", action="append", default=[], help="an agency credit code it speaks for (repeatable)")
        register.add_argument("--endpoint", default="")
        rotate = sub.add_parser("rotate-key", help="add a lower platform's new key")
        rotate.add_argument("code")
        rotate.add_argument("--key", required=True)
        rotate.add_argument("--overlap-days", type=float, default=7.0)
        for name in ("deactivate", "activate"):
            sub.add_parser(name, help=f"{name} a lower platform").add_argument("code")
        sub.add_parser("instances", help="the trust list")
        upstream = sub.add_parser("upstream", help="show or set the platform above")
        upstream.add_argument("--url")
        upstream.add_argument("--as", dest="code", help="this platform's code at the platform above")
        upstream.add_argument("--enable", action="store_true", help="send again after a 410")
        sub.add_parser("deliver", help="send what is due now")
        outbox = sub.add_parser("outbox", help="messages not delivered")
        outbox.add_argument("--all", action="store_true", help="also delivered ones (last 50)")
        retry = sub.add_parser("retry", help="send a message again")
        retry.add_argument("msg_id")
        sub.add_parser("reconcile", help="reconcile with the platform above now")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "do_" + action.replace("-", "_"))(**options)
        except ValidationError as exc:
            raise CommandError(_errors(exc)) from None

    def do_key(self, **options):
        public = keys.public_key()
        self.stdout.write(public)
        self.stdout.write(f"fingerprint {webhooks.fingerprint(public)}  (key file {keys.key_path()})")

    def do_register(self, *, code, name, key, region, agency, endpoint, **options):
        instance = services.register_instance(actor=CONSOLE, code=code, name=name, public_key=key, regions=region,
                                              agencies=agency, endpoint=endpoint)
        self.stdout.write(f"registered {instance.code}: {instance.name}")

    def _instance(self, code: str) -> Instance:
        instance = Instance.objects.filter(code=code).first()
        if instance is None:
            raise CommandError(f"no platform {code!r} on the trust list (`sanxiang docking instances`)")
        return instance

    def do_rotate_key(self, *, code, key, overlap_days, **options):
        row = services.add_instance_key(actor=CONSOLE, instance=self._instance(code), public_key=key,
                                        overlap=timedelta(days=overlap_days))
        self.stdout.write(f"{code}: key {row.fingerprint} added; older keys valid for {overlap_days:g} more days")

    def do_deactivate(self, *, code, **options):
        services.set_instance_active(actor=CONSOLE, instance=self._instance(code), active=False)
        self.stdout.write(f"{code}: deactivated (its messages are answered 410 Gone)")

    def do_activate(self, *, code, **options):
        services.set_instance_active(actor=CONSOLE, instance=self._instance(code), active=True)
        self.stdout.write(f"{code}: active")

    def do_instances(self, **options):
        rows = Instance.objects.prefetch_related("regions", "agencies", "keys")
        if not rows:
            self.stdout.write("no platform is registered")
        for instance in rows:
            state = "active" if instance.is_active else "inactive"
            self.stdout.write(f"{instance.code}  {instance.name}  [{state}]  last message {instance.last_message_at or '-'}")
            self.stdout.write(f"  regions: {' '.join(r.code for r in instance.regions.all()) or '-'}")
            self.stdout.write(f"  agencies: {' '.join(a.credit_code for a in instance.agencies.all()) or '-'}")
            for key in instance.keys.all():
                self.stdout.write(f"  key {key.fingerprint}  valid until {key.valid_until or 'replaced'}")

    def do_upstream(self, *, url, code, enable, **options):
        if url or code:
            if not (url and code):
                raise CommandError("give both --url and --as")
            services.configure_upstream(actor=CONSOLE, url=url, instance_code=code)
        elif enable:
            services.enable_upstream(actor=CONSOLE)
        row = services.upstream()
        if row is None:
            self.stdout.write("no upstream: this platform sends nothing upward")
            return
        state = "active" if row.is_active else f"DISABLED since {row.disabled_at}: {row.disabled_reason}"
        self.stdout.write(f"{row.url} as {row.instance_code} [{state}]")
        self.stdout.write(f"this platform's key: {keys.public_key()}")

    def do_deliver(self, **options):
        result = services.deliver_due()
        self.stdout.write(f"sent {result.sent}: delivered {result.delivered}, refused {result.refused}, "
                          f"failed {result.failed}" + (" — upstream disabled (410)" if result.disabled else ""))

    def do_outbox(self, *, all, **options):
        rows = OutboxMessage.objects.order_by("-pk")
        if not all:
            rows = rows.exclude(state=OutboxState.DELIVERED)
        for row in rows[:50]:
            self.stdout.write(f"{row.msg_id}  {row.object_type}:{row.object_key} v{row.version}  {row.state}  "
                              f"attempts {row.attempts}  {row.last_error[:120]}")

    def do_retry(self, *, msg_id, **options):
        row = OutboxMessage.objects.filter(msg_id=msg_id).first()
        if row is None:
            raise CommandError(f"no message {msg_id!r}")
        services.retry_message(actor=CONSOLE, message=row)
        self.stdout.write(f"{msg_id} queued again")

    def do_reconcile(self, **options):
        result = reconcile.run(actor=CONSOLE)
        self.stdout.write(f"{result.outcome}: buckets {result.buckets}, objects {result.objects}, differing "
                          f"{result.differing}, asked for {result.requested}, sent again {result.resent} "
                          f"{result.outcomes or ''}, still differing {result.remaining}"
                          + (f" — {result.error}" if result.error else ""))
        if result.outcome in ("failed", "unrepaired"):
            raise CommandError(f"reconciliation {result.outcome} (run {result.run_id})")
