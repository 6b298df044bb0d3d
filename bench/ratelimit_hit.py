"""Cost of one rate-limit hit (bot/ratelimit.py) on a real SQLite file in WAL mode.

    .venv/bin/python -m bench.ratelimit_hit

Prints CPU and wall time per hit, for one key (a visitor sending fast) and for
1,000 keys (many visitors; windows ending, rows pruned).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bot import migrations, ratelimit
from bot.storage import Storage


def main(n: int = 20000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        storage = Storage(Path(tmp) / "bench.db")
        migrations.migrate(storage.db)
        db = storage.db
        for keys, window in ((1, 10.0), (1000, 10.0), (1000, 0.001)):
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(n):
                ratelimit.hit(db, f"chat:{i % keys}", 12, window)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"{keys:>5} keys, window {window:g}s: {cpu / n * 1e6:6.1f} µs CPU, {wall / n * 1e6:6.1f} µs wall"
                  f" per hit ({db['rate_limits'].count} rows left)")
        storage.close()


if __name__ == "__main__":
    main()
