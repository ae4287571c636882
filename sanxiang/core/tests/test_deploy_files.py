"""The files in deploy/ (docs/deploy.md) stay valid and agree with each
other: nginx accepts the site, systemd accepts the units, PostgreSQL accepts
the settings file, and the port, the
upload route and the proxy count line up with what the platform expects."""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.urls import reverse

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SITE = (DEPLOY / "nginx" / "sanxiang.conf").read_text()
WEB_UNIT = (DEPLOY / "systemd" / "sanxiang-web.service").read_text()
WORKER_UNIT = (DEPLOY / "systemd" / "sanxiang-worker.service").read_text()
ENV = (DEPLOY / "sanxiang.env.example").read_text()
PG_SETTINGS = (DEPLOY / "postgresql" / "sanxiang.conf").read_text()
POSTGRES = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))  # Debian's layout


def _self_signed(directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sanxiang.example.gov.cn")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_accepts_the_site_with_a_certificate_in_place(tmp_path):
    _self_signed(tmp_path)
    site = SITE.replace("/etc/ssl/sanxiang", str(tmp_path)).replace("/var/log/nginx", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf;\n}}\n")
    r = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "test is successful" in r.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_both_units(tmp_path):
    program = shutil.which("sanxiang")
    assert program, "the sanxiang command is not installed (pip install -e .)"
    for name, text in (("sanxiang-web.service", WEB_UNIT), ("sanxiang-worker.service", WORKER_UNIT)):
        (tmp_path / name).write_text(text.replace("/opt/sanxiang/venv/bin/sanxiang", program))
    r = subprocess.run(["systemd-analyze", "verify", "sanxiang-web.service", "sanxiang-worker.service"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


@pytest.mark.skipif(not POSTGRES, reason="no PostgreSQL server program (apt-get install postgresql)")
def test_postgresql_accepts_every_setting_of_the_settings_file_and_reads_the_values_meant():
    # `postgres -C name` reads the configuration of a directory and prints
    # one setting, failing on any line it cannot read; it refuses to run as
    # root, so there as the postgres user, in a directory it can read.
    settings = dict(re.findall(r"^(\w+) = (\S+)$", PG_SETTINGS, re.M))
    assert {"shared_buffers", "work_mem", "jit", "autovacuum"} <= set(settings)
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    directory = tempfile.mkdtemp(prefix="sanxiang-pgconf-")
    try:
        (Path(directory) / "postgresql.conf").write_text(PG_SETTINGS)
        if run_as:
            shutil.chown(directory, "postgres")
        shown = {}
        for name in settings:
            r = subprocess.run([*run_as, POSTGRES[-1], "-D", directory, "-C", name], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            shown[name] = r.stdout.strip()
    finally:
        shutil.rmtree(directory)
    # Memory in the server's units (8 kB pages, kB).
    assert shown["shared_buffers"] == str(2 * 1024 * 1024 // 8)
    assert shown["work_mem"] == str(16 * 1024)
    assert shown["jit"] == "off" and shown["autovacuum"] == "on"


def _location(path: str) -> str:
    m = re.search(r"location\s+" + re.escape(path) + r"\s*\{(.*?)\n    \}", SITE, flags=re.S)
    assert m, f"no location {path} in the nginx site"
    return m.group(1)


def test_nginx_streams_the_upload_route_the_platform_serves():
    upload_route = reverse("evidence:tus_collection")
    block = _location(upload_route)
    assert re.search(r"proxy_request_buffering\s+off;", block)
    size = re.search(r"client_max_body_size\s+(\d+)g;", block)
    assert size and int(size.group(1)) * 1024**3 >= 20 * 1024**3  # SANXIANG_EVIDENCE_MAX_SIZE's default
    assert "proxy_pass http://sanxiang_app;" in block


def test_the_web_unit_listens_where_nginx_sends_and_both_units_run_hardened():
    exec_start = re.search(r"^ExecStart=(.*)$", WEB_UNIT, flags=re.M).group(1)
    assert " serve --workers " in exec_start and "--host 127.0.0.1" in exec_start
    port = re.search(r"--port (\d+)", exec_start).group(1)
    assert re.search(r"upstream sanxiang_app \{\s*server 127\.0\.0\.1:" + port + ";", SITE)
    assert re.search(r"^ExecStart=\S+ worker\b", WORKER_UNIT, flags=re.M)
    for unit in (WEB_UNIT, WORKER_UNIT):
        for line in ("User=sanxiang", "Restart=always", "ProtectSystem=strict", "NoNewPrivileges=yes",
                     "EnvironmentFile=/etc/sanxiang/sanxiang.env", "ReadWritePaths=/var/lib/sanxiang"):
            assert re.search("^" + re.escape(line) + "$", unit, flags=re.M), line


def test_the_proxy_count_in_the_template_matches_the_one_hop_of_the_nginx_site():
    # nginx replaces X-Forwarded-For with the address it saw: exactly one hop.
    assert re.search(r"proxy_set_header X-Forwarded-For \$remote_addr;", SITE)
    assert "$proxy_add_x_forwarded_for" not in SITE
    assert re.search(r"^SANXIANG_TRUSTED_PROXY_COUNT=1$", ENV, flags=re.M)
    assert re.search(r"^SANXIANG_DATA_DIR=/var/lib/sanxiang$", ENV, flags=re.M)
