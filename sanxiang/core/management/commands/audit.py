"""`sanxiang audit verify`, `sanxiang audit checkpoint [--create]` and
`sanxiang audit public-key`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core import audit
from sanxiang.core.audit import format_time


class Command(BaseCommand):
    help = (
        "verify: check the whole audit chain; exit 0 with the entry count and Merkle root, or fail naming the "
        "first broken entry. checkpoint: print the latest signed Merkle checkpoint (--create signs one now). "
        "public-key: print the platform's Ed25519 public key and its id, to publish for verifying archives offline."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint", "public-key"])
        parser.add_argument("--create", action="store_true", help="checkpoint: sign a checkpoint at the current size first")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print the result as JSON")

    def handle(self, *args, action, create=False, as_json=False, **options):
        if action == "verify":
            return self._verify(as_json=as_json)
        if action == "public-key":
            return self._public_key(as_json=as_json)
        return self._checkpoint(create=create, as_json=as_json)

    def _verify(self, *, as_json: bool):
        result = audit.verify_chain()
        unprotected = audit.unprotected_tables()
        if as_json:
            self.stdout.write(_dumps({
                "ok": result.ok, "count": result.count, "latest_root": result.latest_root,
                "first_bad_seq": result.first_bad_seq, "reason": result.reason,
                "checkpoints_checked": result.checkpoints_checked, "latest_checkpoint_size": result.latest_checkpoint_size,
                "unprotected_tables": unprotected,
            }))
        for table in unprotected:
            self.stderr.write(self.style.WARNING(
                f"warning: table {table} has no append-only triggers (run `sanxiang migrate`, or they were dropped) / "
                f"警告：{table} 表缺少只追加保护触发器"))
        if not result.ok:
            raise CommandError(f"audit chain broken at entry #{result.first_bad_seq}: {result.reason}")
        if as_json:
            return
        self.stdout.write(self.style.SUCCESS("audit chain intact / 审计链完整"))
        self.stdout.write(f"entries:     {result.count}")
        self.stdout.write(f"merkle root: {result.latest_root}")
        if result.latest_checkpoint_size is None:
            self.stdout.write("checkpoint:  none yet / 暂无检查点")
        else:
            self.stdout.write(f"checkpoint:  latest at {result.latest_checkpoint_size} entries "
                              f"({result.checkpoints_checked} checked, signatures valid)")

    def _public_key(self, *, as_json: bool):
        from sanxiang.core import signing

        public = signing.public_key_hex()
        if as_json:
            self.stdout.write(_dumps({"algorithm": "Ed25519", "public_key": public, "key_id": signing.key_id(public)}))
            return
        self.stdout.write(f"Ed25519 public key / 公钥: {public}")
        self.stdout.write(f"key id / 公钥标识:          {signing.key_id(public)}")
        self.stdout.write(f"check a package with it / 用它检测归档包: "
                          f"python -m sanxiang.evidence.archive PACKAGE --public-key {public}")

    def _checkpoint(self, *, create: bool, as_json: bool):
        if create:
            try:
                audit.create_checkpoint()
            except audit.AuditChainError as exc:
                raise CommandError(f"cannot sign a checkpoint: {exc} (run `sanxiang audit verify`)") from exc
        checkpoint = audit.latest_checkpoint()
        if checkpoint is None:
            if as_json:
                self.stdout.write(_dumps(None))
            else:
                self.stdout.write("no checkpoint yet (the chain is shorter than the interval; use --create) / 暂无检查点")
            return
        valid = audit.checkpoint_signature_ok(checkpoint)
        if as_json:
            self.stdout.write(_dumps({
                "tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash,
                "last_entry_hash": checkpoint.last_entry_hash, "created_at": format_time(checkpoint.created_at),
                "signature": checkpoint.signature, "signature_valid": valid,
            }))
        else:
            self.stdout.write(f"tree size:       {checkpoint.tree_size}")
            self.stdout.write(f"root hash:       {checkpoint.root_hash}")
            self.stdout.write(f"last entry hash: {checkpoint.last_entry_hash}")
            self.stdout.write(f"created at:      {format_time(checkpoint.created_at)}")
            self.stdout.write(f"signature:       {checkpoint.signature} (HMAC-SHA256)")
            if valid:
                self.stdout.write(self.style.SUCCESS("signature valid / 签名有效"))
        if not valid:
            raise CommandError("checkpoint signature INVALID (forged or altered, or another AUDIT_SIGNING_KEY) / 检查点签名无效")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
