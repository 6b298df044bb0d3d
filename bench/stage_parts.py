"""CPU per event of each part of the in-process stages (README "Performance", round 3).

    .venv/bin/python bench/stage_parts.py [text|diagnosis] [USERS]

Like ``bench/stage_costs.py`` (one thread, Flask's test client, the fake LINE server in its
own process), with the engine's, delivery's and storage's functions and the engine's hooks
wrapped to sum their thread CPU (``time.thread_time``; no profiler, whose overhead would
swamp the small parts). Nested parts are included in their callers' figures.
"""
from __future__ import annotations

import collections
import functools
import logging
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import line_bench as lb  # noqa: E402

spent: collections.Counter = collections.Counter()


def timed(fn: Any, label: str) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - t
    return wrapper


def main() -> None:
    load = sys.argv[1] if len(sys.argv) > 1 else "text"
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    logging.disable(logging.WARNING)
    fake = lb.FakeLineProcess(lb.free_port(), validate=False, log=Path(tempfile.mkdtemp()) / "fakeline.log").start()
    try:
        from bot import create_app
        from bot import delivery, engine, storage
        from bot.channels import line_api
        from dialogs.understanding import warm_up

        os.environ["NINBAI_TODAY"] = lb.TODAY
        app = create_app({"DATABASE": str(Path(tempfile.mkdtemp(prefix="ninbai-parts-")) / "parts.db"),
                          "SECRET_KEY": "bench-" + "x" * 32, "START_WORKER": False,
                          "LINE_CHANNEL_SECRET": lb.SECRET, "LINE_CHANNEL_ACCESS_TOKEN": lb.TOKEN,
                          "LINE_API_BASE_URL": fake.url, "LOG_LEVEL": "WARNING"})
        services = app.extensions["ninbai"]
        for cls, name, label in [
            (engine.Engine, "_preview", "events: the dialog step (_preview)"),
            (engine.Engine, "_apply", "events: the event's writes (_apply)"),
            (engine.Engine, "_run_hooks", "events: hooks"),
            (storage.Storage, "claim_events", "events: claim"),
            (line_api.LineClient, "reply", "send: the SDK's reply call"),
            (delivery.Delivery, "write_finished", "send: last words (write_finished)"),
            (storage.Storage, "pending_sends_for", "send: outbox read"),
            (storage.Storage, "accept_events", "webhook: commit (accept_events)"),
        ]:
            setattr(cls, name, timed(getattr(cls, name), label))
        services.line_parser.parse = timed(services.line_parser.parse, "webhook: verify and parse")
        services.engine.hooks[:] = [timed(h, f"  hook {getattr(h, '__name__', type(h).__name__)}")
                                    for h in services.engine.hooks]
        warm_up(background=False)
        client = app.test_client()
        scripts = [lb.LOADS[load][i % len(lb.LOADS[load])] for i in range(users)]
        user_ids = ["U" + secrets.token_hex(16) for _ in range(users)]
        tokens = {u: fake.control(f"tokens?user={u}&n=14&ttl=600", "POST")["tokens"] for u in user_ids}
        stages: collections.Counter = collections.Counter()
        n = 0
        for step in range(max(len(sc) for sc in scripts)):
            bodies = [lb.signed([lb.make_event(*sc[step], u, tokens[u][step])])
                      for u, sc in zip(user_ids, scripts, strict=True) if step < len(sc)]
            t = time.thread_time()
            for raw, headers in bodies:
                if client.post("/callback", data=raw, headers=headers).status_code != 200:
                    raise SystemExit("webhook refused")
            stages["webhook"] += time.thread_time() - t
            t = time.thread_time()
            answers = []
            while rows := services.storage.claim_events("parts", services.worker.batch):
                answers += [(row, owned) for row, owned, exc in services.engine.process_batch(rows) if owned]
            stages["events"] += time.thread_time() - t
            t = time.thread_time()
            finished: list = []
            for row, owned in answers:
                services.engine.delivery.deliver(row["user_key"], set(owned), finished)
            services.engine.delivery.write_finished(finished)
            stages["send"] += time.thread_time() - t
            n += len(bodies)
        import echo_bot

        os.environ.update(LINE_CHANNEL_SECRET=lb.SECRET, LINE_CHANNEL_ACCESS_TOKEN=lb.TOKEN, LINE_API_BASE_URL=fake.url)
        echo = echo_bot.create_app().test_client()
        user = "U" + secrets.token_hex(16)
        bodies = [lb.signed([lb.make_event("say", "4ヶ月滞納しています", user, tok)])
                  for tok in fake.control(f"tokens?user={user}&n=400&ttl=600", "POST")["tokens"]]
        t = time.thread_time()
        for raw, headers in bodies:
            echo.post("/callback", data=raw, headers=headers)
        echo_ms = 1000 * (time.thread_time() - t) / len(bodies)
    finally:
        fake.stop()
    total = 1000 * sum(stages.values()) / n
    print(f"{load}: {n} events, ms of CPU per event")
    for name in ("webhook", "events", "send"):
        print(f"  {name:8s} {1000 * stages[name] / n:6.2f}")
        for label in sorted(k for k in spent if k.startswith(name) or (name == "events" and k.startswith("  hook"))):
            print(f"      {label:40s} {1000 * spent[label] / n:6.3f}")
    print(f"  total    {total:6.2f}   the echo bot's callback {echo_ms:.2f}   ({total / echo_ms:.2f}x)")


if __name__ == "__main__":
    main()
