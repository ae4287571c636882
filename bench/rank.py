"""In-process cost of one portal search, ranked by relevance and newest
first (issue 12 item 3b), on a database `bench pages` filled.

    python -m bench.rank --data-dir /tmp/sx_pages/sqlite-100k

For each query of the portal's word list: the median of `search_public`
with sort="relevance" and with sort="newest" (first page of 20), and the
relevance order's first ids, which must not depend on where ranking reads
its texts. "relevance_from_records_ms" is the same search with the stored
haystacks ignored: ranking reads the records' texts and normalises them per
query (the fallback path; the figure before the stored haystacks, less the
model instances the old path also built). Written to
bench/results/rank-<database>-<records>.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

QUERIES = ("食品", "王", "警告", "食", "罚款 食品", "2026", "安全", "罚款", "危险废物", "超市")


def _median_ms(call, repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def run(*, data_dir: str | None, repeat: int) -> dict:
    loadavg = os.getloadavg()[0]
    if data_dir:
        os.environ["SANXIANG_DATA_DIR"] = str(Path(data_dir).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
    import django

    django.setup()
    from django.db import connection

    from sanxiang.publicity import search
    from sanxiang.publicity.models import PublicDecision

    per_query = {}
    for q in QUERIES:
        relevance = _median_ms(lambda: search.search_public(q=q, sort="relevance"), repeat)
        newest = _median_ms(lambda: search.search_public(q=q, sort="newest"), repeat)
        first = [p.id for p in search.search_public(q=q, sort="relevance").items]
        stored_table = search.RANK_TABLE
        search.RANK_TABLE = "(SELECT 0 AS id, '' AS haystack WHERE 1 = 0)"  # nothing stored: the fallback
        try:
            from_records = _median_ms(lambda: search.search_public(q=q, sort="relevance"), repeat)
            same = [p.id for p in search.search_public(q=q, sort="relevance").items] == first
        finally:
            search.RANK_TABLE = stored_table
        per_query[q] = {"relevance_ms": relevance, "newest_ms": newest, "relevance_from_records_ms": from_records,
                        "same_order_from_records": same}
    column = lambda key: [v[key] for v in per_query.values()]  # noqa: E731
    return {
        "records": PublicDecision.objects.count(), "database": connection.vendor, "repeat": repeat,
        "relevance_median_ms": round(statistics.median(column("relevance_ms")), 2),
        "newest_median_ms": round(statistics.median(column("newest_ms")), 2),
        "relevance_from_records_median_ms": round(statistics.median(column("relevance_from_records_ms")), 2),
        "same_order": all(column("same_order_from_records")),
        "queries": per_query, "loadavg": loadavg, "loadavg_end": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rank")
    parser.add_argument("--data-dir", help="the SQLite data directory of a filled database (PostgreSQL: DATABASE_URL)")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    figures = run(data_dir=args.data_dir, repeat=args.repeat)
    if args.no_results:
        import json

        print(json.dumps(figures, ensure_ascii=False))
    else:
        from bench.__main__ import write

        write("rank", figures, suffix=f"-{figures['records']}")


if __name__ == "__main__":
    main()
