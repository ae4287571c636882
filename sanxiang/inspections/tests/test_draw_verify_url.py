"""`sanxiang draw verify URL` against a real HTTP server: the public
record of a real draw served by the live server is fetched and re-run
(exit 0); a URL that answers 404 or where nothing listens exits 2 with a
one-line reason and no traceback (docs/random-inspection.md, "Checking a
draw")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import requests


def _verify(url: str, tmp_path) -> subprocess.CompletedProcess:
    """The installed command, as an operator runs it (a process of its own;
    the check needs no database, so it gets an empty data directory)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SANXIANG_DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", "sanxiang.cli", "draw", "verify", url],
                          capture_output=True, text=True, env=env, timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_draw_verify_re_runs_the_record_fetched_from_the_portal_and_exits_0(live_server, drawn, tmp_path):
    url = f"{live_server.url}/api/v1/inspections/draws/{drawn.draw.pk}/record"
    done = _verify(url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK:") and f"{len(drawn.draw.result)} objects drawn" in done.stdout
    assert drawn.draw.seed in done.stdout
    # The standalone verifier downloaded from the same portal agrees.
    script = tmp_path / "drawv1.py"
    script.write_bytes(requests.get(f"{live_server.url}/inspections/verify-draw.py", timeout=30).content)
    alone = subprocess.run([sys.executable, "-I", str(script), url], capture_output=True, text=True, timeout=60)
    assert alone.returncode == 0 and alone.stdout.startswith("OK:"), alone.stderr


def test_draw_verify_of_a_url_that_answers_404_or_is_unreachable_exits_2_without_a_traceback(live_server, drawn, tmp_path):
    missing = _verify(f"{live_server.url}/api/v1/inspections/draws/999999/record", tmp_path)
    assert missing.returncode == 2
    assert "cannot read the draw record" in missing.stderr and "404" in missing.stderr
    assert "Traceback" not in missing.stderr + missing.stdout
    nobody = _verify(f"http://127.0.0.1:{_free_port()}/api/v1/inspections/draws/1/record", tmp_path)
    assert nobody.returncode == 2
    assert "cannot read the draw record" in nobody.stderr and "Traceback" not in nobody.stderr + nobody.stdout
    not_json = _verify(f"{live_server.url}/inspections/draws/", tmp_path)  # a page, not a record
    assert not_json.returncode == 2 and "Traceback" not in not_json.stderr + not_json.stdout
