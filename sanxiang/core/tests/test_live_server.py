"""The test suite's live server (sanxiang/conftest.py, SerialisedLiveServer)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sanxiang.conftest import PASSWORD


@pytest.mark.django_db(transaction=True)
def test_overlapping_requests_that_write_to_the_database_all_succeed_on_the_live_server(live_server, world):
    """Browsers send requests side by side (a popup's PDF beside a form post).
    Each here logs in (a session row written inside a transaction) and opens
    the workbench; on SQLite the live server shares one in-memory connection,
    so without one request at a time some would fail with "cannot open
    savepoint - SQL statements in progress"."""

    def log_in_and_open_the_workbench(_):
        with requests.Session() as s:
            s.get(live_server.url + "/login/", timeout=60)
            r = s.post(live_server.url + "/login/", data={"username": "changan_officer", "password": PASSWORD,
                                                         "csrfmiddlewaretoken": s.cookies.get("csrftoken")},
                       headers={"Referer": live_server.url + "/login/"}, timeout=60)
            return r.status_code, s.get(live_server.url + "/", timeout=60).status_code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(log_in_and_open_the_workbench, range(24)))
    assert results == [(200, 200)] * 24
