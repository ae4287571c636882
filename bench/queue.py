"""`sanxiang bench queue --storage sqlite|redis`: the job queue's own speed
(sanxiang/core/queue.py) on one storage, in a queue namespace of its own:

- enqueue rate: N tasks enqueued one by one from one thread (what a web
  request pays per task);
- tasks done/s: the same N tasks taken and executed by a consumer in this
  process (``EmbeddedConsumer``, the worker threads `sanxiang worker` runs),
  from the start of the consumer until the queue is empty.

The task does nothing but count (no database work): the figures are the
queue's overhead, the ceiling of what any task can reach. Results to
bench/results/queue-<storage>.json; the last stdout line is the JSON.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DONE = {"count": 0}
_lock = threading.Lock()


def _declare():
    from sanxiang.core import queue

    if "bench.queue.count" in queue.TASKS:
        return queue.TASKS["bench.queue.count"]

    @queue.task(name="bench.queue.count", retries=0)
    def count(i: int) -> None:
        with _lock:
            DONE["count"] += 1

    return count


def run(*, storage: str, tasks: int, workers: int, redis_url: str, say=print) -> dict:
    from django.conf import settings

    from sanxiang.core import queue

    loadavg = os.getloadavg()[0]
    name = f"bench-queue-{uuid.uuid4().hex[:10]}"
    if storage == "sqlite":
        url = f"sqlite:///{Path(settings.DATA_DIR) / 'bench-queue.sqlite3'}"
    else:
        url = redis_url
    queue.use_storage(url, name)
    count = _declare()
    DONE["count"] = 0
    try:
        say(f"enqueueing {tasks} tasks on {queue.describe()}")
        started = time.perf_counter()
        for i in range(tasks):
            count(i)
        enqueue_s = time.perf_counter() - started
        assert queue.pending_count() == tasks, queue.pending_count()
        say(f"consuming with {workers} worker thread(s)")
        consumer = queue.EmbeddedConsumer(workers, periodic=False)
        started = time.perf_counter()
        consumer.start(scheduler=False)
        while True:
            with _lock:
                done = DONE["count"]
            if done >= tasks:
                break
            time.sleep(0.01)
        consume_s = time.perf_counter() - started
        consumer.stop()
        left = queue.pending_count()
        in_flight = queue.inflight_count()  # every task acknowledged: 0
    finally:
        queue.flush()
    return {
        "storage": storage, "queue_url": url if storage == "sqlite" else redis_url, "tasks": tasks,
        "workers": workers, "enqueue_s": round(enqueue_s, 3), "enqueue_per_s": round(tasks / enqueue_s, 1),
        "consume_s": round(consume_s, 3), "done_per_s": round(tasks / consume_s, 1), "left_in_queue": left,
        "left_in_flight": in_flight, "delivery": "at least once (claim, acknowledge, heartbeat)",
        "loadavg": round(loadavg, 2),
    }


def write(figures: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    figures = {"benchmark": "queue", "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "python": platform.python_version(), "machine": f"{os.cpu_count()} cores", **figures}
    path = RESULTS / f"queue-{figures['storage']}.json"
    if path.exists():
        earlier = json.loads(path.read_text(encoding="utf-8"))
        # The figures from before acknowledged delivery (a plain pop) stay
        # beside the new ones, to show what acknowledgement costs.
        before = earlier.get("before_acknowledgement") or (None if "delivery" in earlier else earlier)
        if before:
            figures["before_acknowledgement"] = {k: before.get(k) for k in (
                "measured_at", "tasks", "workers", "enqueue_per_s", "done_per_s", "loadavg")}
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {path}", file=sys.stderr)
    print(json.dumps(figures, ensure_ascii=False))
