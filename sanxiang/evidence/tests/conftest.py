"""Fixtures of the evidence tests: a fresh store per test, cases and steps
in two agencies, API tokens, and tus helpers."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
from datetime import date

import pytest
from django.utils import timezone

from sanxiang.api.services import create_token


@pytest.fixture(autouse=True)
def _fresh_evidence_store(evidence_store):
    """Every evidence test gets its own store (sanxiang/conftest.py)."""
    return evidence_store


def make_case(*, agency, user, title="某超市销售过期食品案", status="open", officers=()):
    """A case with a step; `officers` are assigned to it (承办人员: they, and
    the agency head, may add evidence)."""
    from sanxiang.cases.models import Case, CaseOfficer, CaseStep

    case = Case.objects.create(agency=agency, title=title, act_kind="penalty", procedure="general", status=status,
                               opened_on=date(2026, 3, 2), party_name="石家庄某某超市有限公司", party_type="legal_person",
                               created_by=user, closed_on=date(2026, 4, 1) if status == "closed" else None)
    for i, officer in enumerate(officers):
        CaseOfficer.objects.create(case=case, officer=officer, role="lead" if i == 0 else "assist", assigned_at=timezone.now())
    step = CaseStep.objects.create(case=case, code="investigation", name="调查取证", started_at=timezone.now(),
                                   place="长安区建设北大街 1 号")
    return case, step


@pytest.fixture
def cases(world):
    w = world
    w.case, w.step = make_case(agency=w.amr_changan, user=w.u_changan, officers=[w.changan_officer, w.changan_officer2])
    w.other_case, w.other_step = make_case(agency=w.amr_zhengding, user=w.u_zhengding, title="正定县某餐馆案",
                                           officers=[w.zhengding_officer, w.zhengding_officer2])
    w.changan_officer.user = w.u_changan
    w.changan_officer.save(update_fields=["user"])
    token, w.token = create_token(actor="test", agency=w.amr_changan, name="记录仪工作站",
                                  scopes=["evidence:upload", "read", "cases:write"])
    token, w.zhengding_token = create_token(actor="test", agency=w.amr_zhengding, name="正定工作站",
                                            scopes=["evidence:upload", "read"])
    token, w.read_only_token = create_token(actor="test", agency=w.amr_changan, name="只读", scopes=["read"])
    return w


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def metadata_header(**meta) -> str:
    return ",".join(f"{k} {b64(str(v))}" for k, v in meta.items())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg_bytes(size: int, seed: int = 1) -> bytes:
    """Bytes that start like a JPEG (so the type is sniffed as image/jpeg)
    followed by pseudo-random filler."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    body = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return (head + body)[:size]


def mp4_bytes(size: int, seed: int = 2) -> bytes:
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    body = os.urandom(64) * (size // 64 + 1) if seed is None else hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return (head + body)[:size]


class CuttingProxy:
    """A TCP proxy in front of the live server that drops the connection
    once, after `cut_after` bytes went from client to server (a phone
    losing its network mid-file)."""

    def __init__(self, upstream_port: int, cut_after: int):
        self.upstream_port, self.cut_after = upstream_port, cut_after
        self.sent, self.cuts = 0, 0
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src, dst, counting):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if counting:
                    with self.lock:
                        cut = self.cuts == 0 and self.sent + len(data) > self.cut_after
                        if cut:
                            keep = self.cut_after - self.sent
                            self.sent = self.cut_after
                            self.cuts += 1
                        else:
                            self.sent += len(data)
                    if cut:
                        dst.sendall(data[:keep])
                        for s in (src, dst):
                            try:
                                s.shutdown(socket.SHUT_RDWR)
                            except OSError:
                                pass
                            s.close()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_WR if s is dst else socket.SHUT_RD)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.listener.close()


@pytest.fixture(scope="session")
def moto_endpoint():
    """A real S3-compatible server (moto) on a free localhost port."""
    server_mod = pytest.importorskip("moto.server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
