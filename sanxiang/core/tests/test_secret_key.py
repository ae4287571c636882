"""Without SANXIANG_SECRET_KEY, the platform never signs with a key anyone
can read in the source: the first start makes a random key in the data
directory (mode 0600) and every later start reuses it (issue 9, section 6)."""

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sanxiang.settings import DEFAULT_SECRET_KEY

SHOW_KEY = "from django.conf import settings; print('KEY=' + settings.SECRET_KEY)"


def clean_env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "SANXIANG_DATA_DIR", "DJANGO_SETTINGS_MODULE", "SANXIANG_SECRET_KEY"}}
    env.update(SANXIANG_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve_and_stop(data_dir: Path) -> None:
    """`sanxiang serve` as an operator runs it: until it says it serves."""
    proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "serve", "--port", str(free_port()), "--jobs-interval", "0"],
                            env=clean_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, started = [], time.monotonic()
    try:
        for line in proc.stdout:
            output.append(line)
            if "Serving on" in line:
                break
            assert time.monotonic() - started < 120, "".join(output)
        assert proc.poll() is None, "serve stopped:\n" + "".join(output)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def key_in_use(data_dir: Path) -> str:
    r = subprocess.run([sys.executable, "-m", "sanxiang", "manage", "shell", "-c", SHOW_KEY],
                       env=clean_env(data_dir), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return next(line[4:] for line in r.stdout.splitlines() if line.startswith("KEY="))


def test_first_start_makes_a_random_private_key_that_later_starts_reuse(tmp_path):
    data = tmp_path / "data"
    start_serve_and_stop(data)
    key_file = data / "secret_key"
    assert key_file.is_file(), "serve made no key file in the data directory"
    first = key_file.read_text().strip()
    assert first != DEFAULT_SECRET_KEY and len(first) >= 50
    if os.name == "posix":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_in_use(data) == first, "the running settings do not use the stored key"
    start_serve_and_stop(data)  # a restart
    assert key_file.read_text().strip() == first
    assert key_in_use(data) == first
    # another installation gets another key
    other = tmp_path / "other"
    assert key_in_use(other) != first
    assert (other / "secret_key").read_text().strip() not in {first, DEFAULT_SECRET_KEY}


def test_the_published_default_key_is_refused_even_in_development(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sanxiang", "manage", "shell", "-c", SHOW_KEY], capture_output=True,
                       text=True, env=clean_env(tmp_path, SANXIANG_SECRET_KEY=DEFAULT_SECRET_KEY), timeout=120)
    assert r.returncode == 2 and "SANXIANG_SECRET_KEY" in r.stderr and "Traceback" not in r.stderr


def test_a_configured_key_wins_and_no_file_is_made(tmp_path):
    key = "k" * 20 + "configured-by-the-operator-0123456789"
    r = subprocess.run([sys.executable, "-m", "sanxiang", "manage", "shell", "-c", SHOW_KEY], capture_output=True,
                       text=True, env=clean_env(tmp_path, SANXIANG_SECRET_KEY=key), timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"KEY={key}" in r.stdout
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("racers", [8])
def test_processes_starting_at_once_agree_on_one_key(tmp_path, racers):
    from concurrent.futures import ThreadPoolExecutor

    from sanxiang.secret_key import data_dir_secret_key

    with ThreadPoolExecutor(racers) as pool:
        keys = set(pool.map(lambda _: data_dir_secret_key(tmp_path), range(racers)))
    assert len(keys) == 1 and keys == {(tmp_path / "secret_key").read_text().strip()}
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind
