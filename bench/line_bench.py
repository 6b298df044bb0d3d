"""LINE load benchmark (ISSUE 6): ninbai under gunicorn vs LINE's echo bot. Not a test.

    .venv/bin/python bench/line_bench.py            # full run, about 8–10 minutes
    .venv/bin/python bench/line_bench.py --quick    # 1–2 minutes (`make bench`)
    options: --only echo|ninbai|scales, --duration S, --saturation N, --scales 1000,10000,
             --procs N (load processes), --keep DIR (keep databases and logs), --label TEXT

What runs, all on 127.0.0.1:

* the fake LINE API (``python -m tests.support.fakeline --no-validate``) as its own
  process; it issues the reply tokens and records when each reply arrives;
* the app under gunicorn with ``gunicorn.conf.py`` (2 gthread web workers × 4 threads,
  each process with its worker thread), a temporary SQLite file, ``LINE_*`` pointing at
  the fake;
* the baseline ``bench/echo_bot.py`` (LINE's echo example) under the same web
  settings (2 × 4; it answers inside the webhook request);
* the load generator: ``--procs`` processes (multiprocessing), one thread per
  simulated homeowner, keep-alive ``http.client`` connections. A homeowner sends
  a signed webhook, waits for the HTTP 200 (webhook latency), then waits until
  the answer reaches the fake LINE server (reply latency, correlated by reply
  token; the fake streams its arrivals back), then sends the next event, like a
  person. A homeowner who finished starts over as a new LINE user (a new
  conversation).

Loads: ``text`` (free text only: what the echo bot answers too — the
throughput comparison) and ``diagnosis`` (follow, taps, a date picker, free
text, an FAQ question, a handoff: the whole diagnosis). Then the same
diagnosis load on databases pre-filled with 1,000 / 10,000 / 100,000
conversations (bulk copies of real conversations from the first run; 100,000
with --scales 1000,10000,100000: its fill takes ~20 minutes on 2 cores).

Before the timed runs, a few homeowners go through the diagnosis against the
fake *with* OpenAPI validation: every request the bot sends must be valid.

Also timed in-process: ``understand()`` over tests/data/understanding_corpus.yaml
and ``DiagnosisDialog.step`` over full walks; and the CPU per event of each stage
alone (ninbai's webhook, its event work, its send; the echo bot's callback), one
thread and nothing else running (:func:`stage_costs`).

Prints tables and writes bench/results/line_bench.json.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import multiprocessing as mp
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-channel-secret-0123456789ab"
TOKEN = "bench-channel-access-token"
TODAY = "2026-11-27"  # fixed "today" (NINBAI_TODAY): the dates below stay in the future
DESTINATION = "U" + "0123456789abcdef" * 2
PY = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CLK = os.sysconf("SC_CLK_TCK")

# --- what homeowners do -------------------------------------------------------------
# (kind, value): follow | tap (postback data) | pick (date picker: data=date) | say (text)
DIAGNOSIS = [
    [("follow", None), ("tap", "consent:yes"), ("say", "4ヶ月滞納しています"), ("tap", "notice:bid_notice"),
     ("say", "開札は令和9年2月10日です"), ("tap", "own:single"), ("tap", "guarantor:no"),
     ("tap", "divorce:none"), ("tap", "lender:bank"), ("tap", "stay:no"),
     ("say", "引っ越し代は出ますか？"), ("say", "人と話したい"), ("tap", "contact:wait")],
    [("follow", None), ("tap", "consent:yes"), ("tap", "arrears:3-5"), ("tap", "notice:auction_start"),
     ("pick", "date:start_decision=2026-10-01"), ("tap", "own:shared"), ("tap", "guarantor:yes"),
     ("tap", "divorce:in_progress"), ("tap", "lender:jhf"), ("tap", "stay:yes"),
     ("say", "引っ越し代は出ますか？"), ("say", "人と話したい"), ("tap", "contact:wait")],
    [("follow", None), ("tap", "consent:yes"), ("tap", "arrears:6+"), ("tap", "notice:bid_notice"),
     ("pick", "date:kaisatsu=2027-02-10"), ("tap", "own:single"), ("tap", "guarantor:no"),
     ("tap", "divorce:done"), ("tap", "lender:bank"), ("tap", "stay:undecided"),
     ("say", "引っ越し代は出ますか？"), ("say", "人と話したい"), ("tap", "contact:wait")],
]
TEXT = [
    [("say", "こんにちは"), ("say", "同意します"), ("say", "4ヶ月滞納しています"),
     ("say", "競売開始決定の通知が届きました"), ("say", "開札は令和9年2月10日です"), ("say", "単独名義です"),
     ("say", "いません"), ("say", "関係ないです"), ("say", "銀行です"), ("say", "引っ越してもいいです"),
     ("say", "引っ越し代は出ますか？"), ("say", "人と話したい")],
]
LOADS = {"diagnosis": DIAGNOSIS, "text": TEXT}


def _event_id(ms: int) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = (ms << 80) | secrets.randbits(80)
    return "".join(alphabet[(value >> s) & 31] for s in range(125, -1, -5))


def make_event(kind: str, value: str | None, user: str, token: str) -> dict[str, Any]:
    """One webhook event as LINE sends it (same shapes as tests/support/webhooks.py)."""
    ms = int(time.time() * 1000)
    ev: dict[str, Any] = {
        "source": {"type": "user", "userId": user}, "timestamp": ms, "mode": "active",
        "webhookEventId": _event_id(ms), "deliveryContext": {"isRedelivery": False}, "replyToken": token,
    }
    if kind == "follow":
        ev.update(type="follow", follow={"isUnblocked": False})
    elif kind == "tap":
        ev.update(type="postback", postback={"data": value})
    elif kind == "pick":
        data, date = value.split("=")
        ev.update(type="postback", postback={"data": data, "params": {"date": date}})
    else:
        ev.update(type="message", message={"type": "text", "id": str(10**17 + secrets.randbelow(9 * 10**17)),
                                           "text": value, "quoteToken": secrets.token_urlsafe(32)})
    return ev


def signed(events: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps({"destination": DESTINATION, "events": events}, ensure_ascii=False,
                     separators=(",", ":")).encode()
    sig = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    return raw, {"Content-Type": "application/json; charset=utf-8", "x-line-signature": sig}


def check_event_shapes() -> None:
    """Every event shape the load sends is valid against LINE's webhook OpenAPI."""
    from tests.support.webhooks import validate_body

    seen = set()
    for script in DIAGNOSIS + TEXT:
        for kind, value in script:
            if (kind, (value or "").split(":")[0]) in seen:
                continue
            seen.add((kind, (value or "").split(":")[0]))
            errors = validate_body({"destination": DESTINATION,
                                    "events": [make_event(kind, value, "U" + "a" * 32, "t" * 32)]})
            if errors:
                raise SystemExit(f"invalid {kind} webhook event: {errors}")


# --- helpers --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError):
        return 0.0


def proc_status(pid: int, key: str) -> float:
    """VmRSS / VmHWM of a process in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


def db_bytes(path: str) -> int:
    """Pages in use (the WAL's latest pages included; the -wal file itself only grows)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as c:
        pages, free, size = (c.execute(f"pragma {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size


def conversations_in(path: str) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as c:
        return c.execute("select count(*) from conversations").fetchone()[0]


# --- processes under test ---------------------------------------------------------------
class FakeLineProcess:
    def __init__(self, port: int, validate: bool, log: Path):
        self.port, self.validate, self.log = port, validate, log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeLineProcess":
        cmd = [PY, "-m", "tests.support.fakeline", "--port", str(self.port), "--token", TOKEN]
        if not self.validate:
            cmd.append("--no-validate")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        wait_http(self.url + "/__fake/stats")
        return self

    def control(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(self.url + "/__fake/" + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Gunicorn:
    def __init__(self, target: str, port: int, env: dict[str, str], log: Path):
        self.target, self.port, self.env, self.log = target, port, env, log
        self.proc: subprocess.Popen | None = None
        self.rss_peak: dict[int, float] = {}
        self._sampling = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Gunicorn":
        app = "app:create_app()" if self.target == "ninbai" else "bench.echo_bot:create_app()"
        env = {**os.environ, **self.env, "PORT": str(self.port), "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", app], cwd=ROOT, env=env,
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        wait_http(self.url + "/healthz", 60)
        deadline = time.monotonic() + 20
        while len(self.workers()) < int(self.env.get("NINBAI_WEB_WORKERS", "2")) and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(20):  # each worker answers (imports done, app built)
            urllib.request.urlopen(self.url + "/healthz", timeout=5).read()
        return self

    def workers(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def pids(self) -> list[int]:
        return [self.proc.pid, *self.workers()] if self.proc else []

    def sample(self) -> None:
        self._sampling.set()

        def run():
            while self._sampling.is_set():
                for pid in self.workers():
                    self.rss_peak[pid] = max(self.rss_peak.get(pid, 0.0), proc_status(pid, "VmRSS"))
                time.sleep(0.2)

        threading.Thread(target=run, daemon=True).start()

    def memory(self) -> dict[str, Any]:
        self._sampling.clear()
        return {str(pid): {"rss_mb": round(proc_status(pid, "VmRSS"), 1),
                           "hwm_mb": round(proc_status(pid, "VmHWM"), 1),
                           "sampled_peak_mb": round(self.rss_peak.get(pid, 0.0), 1)}
                for pid in self.workers()}

    def stop(self) -> None:
        self._sampling.clear()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# --- the load generator (child processes) -----------------------------------------------
def _loadgen(idx: int, users: int, cfg: dict[str, Any], t_start: float, t_measure: float, t_end: float,
             out: Any) -> None:
    """One load process: ``users`` homeowner threads + one reader of the fake's delivery stream."""
    arrivals: dict[str, float] = {}
    waiters: dict[str, threading.Event] = {}
    lock = threading.Lock()
    fake_host, fake_port = "127.0.0.1", cfg["fake_port"]

    def reader() -> None:
        conn = http.client.HTTPConnection(fake_host, fake_port, timeout=None)
        conn.request("GET", "/__fake/stream")
        resp = conn.getresponse()
        while True:
            line = resp.readline()
            if not line:
                return
            if line == b"\n":
                continue
            d = json.loads(line)
            token = d.get("reply_token")
            if not token:
                continue
            with lock:
                arrivals[token] = d["at"]
                w = waiters.pop(token, None)
            if w is not None:
                w.set()

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(0.3)  # the stream is subscribed before the first event
    records: list[tuple] = []  # (kind, t0, webhook_s, reply_s|None, status)
    rec_lock = threading.Lock()
    scripts = LOADS[cfg["load"]]
    echo = cfg["target"] == "echo"

    def homeowner(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", cfg["app_port"], timeout=30)
        fake = http.client.HTTPConnection(fake_host, fake_port, timeout=30)
        mine: list[tuple] = []
        round_ = 0
        while time.monotonic() < t_end:
            script = scripts[(n + round_) % len(scripts)]
            round_ += 1
            user = "U" + secrets.token_hex(16)
            fake.request("POST", f"/__fake/tokens?user={user}&n={len(script)}&ttl=300")
            tokens = json.loads(fake.getresponse().read())["tokens"]
            for (kind, value), token in zip(script, tokens, strict=True):
                if time.monotonic() >= t_end:
                    break
                raw, headers = signed([make_event(kind, value, user, token)])
                expect = not echo or kind == "say"
                ev = threading.Event()
                if expect:
                    with lock:
                        waiters[token] = ev
                t0 = time.monotonic()
                for attempt in (1, 2):
                    try:
                        conn.request("POST", "/callback", raw, headers)
                        resp = conn.getresponse()
                        resp.read()
                        status = resp.status
                        break
                    except (http.client.HTTPException, OSError):
                        conn.close()  # keep-alive connection closed by the server: reconnect
                        if attempt == 2:
                            status = 0
                t1 = time.monotonic()
                reply = None
                if expect and status == 200:
                    ev.wait(cfg["reply_timeout"])
                    with lock:
                        waiters.pop(token, None)
                        at = arrivals.pop(token, None)
                    reply = None if at is None else at - t0
                mine.append((kind, t0, t1 - t0, reply, status, expect))
        with rec_lock:
            records.extend(mine)

    while time.monotonic() < t_start:
        time.sleep(0.005)
    threads = [threading.Thread(target=homeowner, args=(idx * 100000 + i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(cfg["reply_timeout"] + (t_end - time.monotonic()) + 30)
    ru = os.times()
    out.put({"records": [r for r in records if r[1] >= t_measure], "cpu_s": ru.user + ru.system,
             "all_events": len(records)})


def run_load(cfg: dict[str, Any], users: int, duration: float, warmup: float, procs: int,
             watch: list[tuple[str, list[int]]]) -> dict[str, Any]:
    """Run one load phase; returns the figures (events/s, latencies, CPU of each component)."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = max(1, min(procs, users))
    t_start = time.monotonic() + 0.8
    t_measure, t_end = t_start + warmup, t_start + warmup + duration
    split = [users // procs + (1 if i < users % procs else 0) for i in range(procs)]
    ps = [ctx.Process(target=_loadgen, args=(i, n, cfg, t_start, t_measure, t_end, out)) for i, n in enumerate(split)]
    for p in ps:
        p.start()
    cpu0: dict[str, float] = {}
    while time.monotonic() < t_measure:
        time.sleep(0.01)
    cpu0 = {name: sum(cpu_seconds(p) for p in pids) for name, pids in watch}
    lg0 = sum(cpu_seconds(p.pid) for p in ps)
    wall0 = time.monotonic()
    while time.monotonic() < t_end:
        time.sleep(0.01)
    cpu1 = {name: sum(cpu_seconds(p) for p in pids) for name, pids in watch}
    lg1 = sum(cpu_seconds(p.pid) for p in ps)
    wall = time.monotonic() - wall0
    results = [out.get(timeout=cfg["reply_timeout"] + 60) for _ in ps]
    for p in ps:
        p.join(10)
    recs = [r for res in results for r in res["records"] if r[1] < t_end]
    ok = [r for r in recs if r[4] == 200]
    webhook = [r[2] * 1000 for r in ok]
    replies = [r[3] * 1000 for r in ok if r[5] and r[3] is not None]
    missing = sum(1 for r in ok if r[5] and r[3] is None)
    cpu = {name: round(100 * (cpu1[name] - cpu0[name]) / wall, 1) for name, _ in watch}
    cpu["loadgen"] = round(100 * (lg1 - lg0) / wall, 1)
    return {
        "users": users, "duration_s": round(wall, 2), "events": len(ok), "errors": len(recs) - len(ok),
        "events_per_s": round(len(ok) / wall, 1),
        "webhook_ms": {k: _r(pct(webhook, p)) for k, p in (("p50", 50), ("p95", 95), ("p99", 99))},
        "reply_ms": {k: _r(pct(replies, p)) for k, p in (("p50", 50), ("p95", 95), ("p99", 99))},
        "replies": len(replies), "no_reply": missing, "cpu_percent": cpu,
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


# --- pre-filled databases --------------------------------------------------------------
def templates(src: str, n: int = 24) -> list[dict[str, Any]]:
    """Real, finished conversations (rows of every table) to copy."""
    c = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    c.row_factory = sqlite3.Row
    out = []
    convs = c.execute("select * from conversations where state = 'handoff' and channel = 'line'"
                      " order by id limit ?", [n]).fetchall()
    for conv in convs:
        contact = c.execute("select * from contacts where id = ?", [conv["contact_id"]]).fetchone()
        user_key = f"line:{contact['external_id']}"
        out.append({
            "contact": dict(contact), "conversation": dict(conv),
            "messages": [dict(r) for r in c.execute("select * from messages where conversation_id = ? order by id", [conv["id"]])],
            "inbox": [dict(r) for r in c.execute("select * from inbox where user_key = ? order by id", [user_key])],
            "outbox": [dict(r) for r in c.execute("select * from outbox where conversation_id = ? order by id", [conv["id"]])],
            "funnel": [dict(r) for r in c.execute("select * from funnel_events where conversation_id = ?", [conv["id"]])]
            if "funnel_events" in {t[0] for t in c.execute("select name from sqlite_master")} else [],
        })
    c.close()
    if not out:
        raise SystemExit("no finished conversation to copy: the diagnosis load did not complete one")
    return out


def fill(path: str, tpl: list[dict[str, Any]], target: int) -> dict[str, Any]:
    """Bulk-copy template conversations until ``target`` conversations are stored."""
    from bot.storage import Storage

    st = Storage(path)
    st.migrate()
    st.close_thread_connection()
    c = sqlite3.connect(path, isolation_level=None, timeout=30)
    c.execute("pragma journal_mode = wal")
    c.execute("pragma synchronous = off")
    have = c.execute("select count(*) from conversations").fetchone()[0]
    t0 = time.perf_counter()
    cols: dict[str, list[str]] = {}
    for table in ("contacts", "conversations", "messages", "inbox", "outbox", "funnel_events"):
        cols[table] = [r[1] for r in c.execute(f"pragma table_info({table})") if r[1] != "id"]
    next_contact = (c.execute("select max(id) from contacts").fetchone()[0] or 0) + 1
    next_conv = (c.execute("select max(id) from conversations").fetchone()[0] or 0) + 1
    batch = 2000
    i = 0
    total = target - have
    while i < total:
        rows: dict[str, list[tuple]] = {t: [] for t in cols}
        c.execute("BEGIN")
        for j in range(i, min(total, i + batch)):
            t = tpl[j % len(tpl)]
            cid, vid = next_contact + j, next_conv + j
            ext = "U" + hashlib.md5(f"bench-{path}-{cid}".encode()).hexdigest()
            user_key = f"line:{ext}"
            rows["contacts"].append(tuple(ext if k == "external_id" else t["contact"][k] for k in cols["contacts"]))
            rows["conversations"].append(tuple(cid if k == "contact_id" else t["conversation"][k]
                                               for k in cols["conversations"]))
            for m in t["messages"]:
                rows["messages"].append(tuple(
                    vid if k == "conversation_id" else cid if k == "contact_id"
                    else (f"{m[k]}-{cid}" if k == "event_id" and m[k] else m[k]) for k in cols["messages"]))
            for n, e in enumerate(t["inbox"]):
                rows["inbox"].append(tuple(
                    f"bench-{cid}-{n}" if k == "event_id" else user_key if k == "user_key" else e[k]
                    for k in cols["inbox"]))
            for o in t["outbox"]:
                rows["outbox"].append(tuple(
                    vid if k == "conversation_id" else user_key if k == "user_key" else ext if k == "external_id"
                    else None if k == "inbox_id" else o[k] for k in cols["outbox"]))
            for f in t["funnel"]:
                rows["funnel_events"].append(tuple(vid if k == "conversation_id" else f[k]
                                                   for k in cols["funnel_events"]))
        # explicit ids keep conversations ↔ contacts aligned
        c.executemany(f"insert into contacts (id, {', '.join(cols['contacts'])}) values (?{', ?' * len(cols['contacts'])})",
                      [(next_contact + i + k, *r) for k, r in enumerate(rows["contacts"])])
        c.executemany(f"insert into conversations (id, {', '.join(cols['conversations'])})"
                      f" values (?{', ?' * len(cols['conversations'])})",
                      [(next_conv + i + k, *r) for k, r in enumerate(rows["conversations"])])
        for table in ("messages", "inbox", "outbox", "funnel_events"):
            if rows[table]:
                c.executemany(f"insert or ignore into {table} ({', '.join(cols[table])})"
                              f" values ({', '.join('?' * len(cols[table]))})", rows[table])
        c.execute("COMMIT")
        i += batch
    c.execute("pragma wal_checkpoint(truncate)")
    c.execute("analyze")
    n = c.execute("select count(*) from conversations").fetchone()[0]
    counts = {t: c.execute(f"select count(*) from {t}").fetchone()[0] for t in ("messages", "inbox", "outbox")}
    c.close()
    return {"conversations": n, "fill_s": round(time.perf_counter() - t0, 1), **counts}


# --- in-process timings -------------------------------------------------------------------

def dialog_input(kind: str, value: str, today: dt.date) -> Any:
    """One step of a script (follow / tap / pick / text) as the dialog's input."""
    from dialogs.base import DialogInput

    if kind == "follow":
        return DialogInput(kind="follow", today=today)
    if kind == "tap":
        return DialogInput(kind="postback", today=today, data=value)
    if kind == "pick":
        data, date = value.split("=")
        return DialogInput(kind="postback", today=today, data=data, params={"date": date})
    return DialogInput(kind="text", today=today, text=value)


def micro(repeat: int) -> dict[str, Any]:
    import yaml

    from bot.content import load_content
    from dialogs.base import Session
    from dialogs.diagnosis import DiagnosisDialog
    from dialogs.understanding import understand, warm_up

    warm_up()
    corpus = yaml.safe_load((ROOT / "tests/data/understanding_corpus.yaml").read_text())
    default_today = corpus.get("today")
    items = []
    for it in corpus["items"]:
        today = it.get("today", default_today)
        items.append((it["text"], today if isinstance(today, dt.date) else dt.date.fromisoformat(str(today))))
    times = []
    for _ in range(repeat):
        for text, today in items:
            t = time.perf_counter()
            understand(text, today)
            times.append((time.perf_counter() - t) * 1000)
    dialog = DiagnosisDialog(load_content(ROOT / "content"))
    today = dt.date.fromisoformat(TODAY)
    steps = []
    for _ in range(repeat * 4):
        for script in DIAGNOSIS + TEXT:
            s = Session()
            for kind, value in script:
                inp = dialog_input(kind, value, today)
                t = time.perf_counter()
                dialog.step(s, inp)
                steps.append((time.perf_counter() - t) * 1000)
    return {
        "understand_ms": {"messages": len(items), "calls": len(times), "median": round(statistics.median(times), 3),
                          "p99": round(pct(times, 99), 3)},
        "dialog_step_ms": {"steps": len(steps), "median": round(statistics.median(steps), 3),
                           "p99": round(pct(steps, 99), 3)},
    }


def stage_costs(fake: "FakeLineProcess", workdir: Path, users: int = 90) -> dict[str, Any]:
    """CPU per event of each stage alone: one thread, nothing else running, the fake
    LINE server in its own process (not counted). Thread CPU time (time.thread_time).

    * webhook: ninbai's /callback (verify, parse, commit to the inbox) — Flask's test
      client, so without gunicorn's HTTP parsing (the echo bot's line has none either);
    * events: the worker's batch work (claim, dialog, transcript, outbox, funnel,
      alerts; one transaction per batch of 16), after the worker's warm-up (ja-timex
      loaded, the classifiers trained: once per process, not per event);
    * send: one answer to LINE (render, the SDK call, the outbox read; the last words of a
      batch's sends written in one transaction, as the worker does);
    * echo: the echo bot's whole /callback (verify, parse, the SDK's reply call).

    What the load runs in processes and threads, here one after the other: where the
    throughput gap to the echo bot comes from (README "Performance").
    """
    import logging

    sys.path.insert(0, str(ROOT / "bench"))
    from bot import create_app

    logging.disable(logging.WARNING)
    os.environ["NINBAI_TODAY"] = TODAY
    app = create_app({"DATABASE": str(workdir / "stages.db"), "SECRET_KEY": "bench-" + "x" * 32,
                      "START_WORKER": False, "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                      "LINE_API_BASE_URL": fake.url, "LOG_LEVEL": "WARNING"})
    services = app.extensions["ninbai"]
    client = app.test_client()
    scripts = [DIAGNOSIS[i % len(DIAGNOSIS)] for i in range(users)]
    user_ids = ["U" + secrets.token_hex(16) for _ in range(users)]
    tokens = {u: fake.control(f"tokens?user={u}&n=13&ttl=600", "POST")["tokens"] for u in user_ids}

    engine, storage = services.engine, services.storage
    # What the worker does before its first event (its warm-up thread): ja-timex loaded and
    # the FAQ and crisis classifiers trained, once per process, not per event.
    from dialogs.understanding import warm_up

    warm_up(background=False)
    webhook_cpu = events_cpu = send_cpu = 0.0
    n_events = 0
    for step in range(max(len(sc) for sc in scripts)):
        bodies = [signed([make_event(*sc[step], u, tokens[u][step])]) for u, sc in zip(user_ids, scripts, strict=True)
                  if step < len(sc)]
        t = time.thread_time()
        for raw, headers in bodies:
            if client.post("/callback", data=raw, headers=headers).status_code != 200:
                raise SystemExit("stage costs: webhook refused")
        webhook_cpu += time.thread_time() - t
        t = time.thread_time()  # what Worker.run_batch does, in two parts
        answers = []
        while rows := storage.claim_events("stages", services.worker.batch):
            answers += [(row, owned) for row, owned, exc in engine.process_batch(rows) if owned]
        events_cpu += time.thread_time() - t
        t = time.thread_time()  # as the worker sends a batch's answers: their last words in one transaction
        finished: list = []
        for row, owned in answers:
            engine.delivery.deliver(row["user_key"], set(owned), finished)
        engine.delivery.write_finished(finished)
        send_cpu += time.thread_time() - t
        n_events += len(bodies)
    delivered = sum(fake.control("stats")["deliveries"].values())
    import echo_bot

    os.environ.update(LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_API_BASE_URL=fake.url)
    echo = echo_bot.create_app().test_client()
    user = "U" + secrets.token_hex(16)
    echo_tokens = fake.control(f"tokens?user={user}&n=600&ttl=600", "POST")["tokens"]
    bodies = [signed([make_event("say", "4ヶ月滞納しています", user, tok)]) for tok in echo_tokens]
    t = time.thread_time()
    for raw, headers in bodies:
        if echo.post("/callback", data=raw, headers=headers).status_code != 200:
            raise SystemExit("stage costs: echo bot refused")
    echo_cpu = time.thread_time() - t
    logging.disable(logging.NOTSET)
    ms = lambda v, n: round(1000 * v / n, 2)  # noqa: E731
    return {"events": n_events, "delivered": delivered,
            "webhook_ms": ms(webhook_cpu, n_events), "events_ms": ms(events_cpu, n_events),
            "send_ms": ms(send_cpu, n_events), "ninbai_total_ms": ms(webhook_cpu + events_cpu + send_cpu, n_events),
            "echo_ms": ms(echo_cpu, len(bodies)), "echo_events": len(bodies)}


# --- orchestration ----------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short phases, one scale (1k) (1–2 minutes)")
    ap.add_argument("--duration", type=float, help="measured seconds per phase (default 20, quick 6)")
    ap.add_argument("--warmup", type=float, help="unmeasured seconds at the start of each phase")
    ap.add_argument("--users", type=int, default=10, help="moderate load: concurrent homeowners")
    ap.add_argument("--saturation", type=int, default=64, help="saturating load: concurrent homeowners")
    ap.add_argument("--scales", help="conversations already stored, comma separated (default 1000,10000; quick 1000);"
                    " 100000 works, but its bulk fill alone takes ~20 min here")
    ap.add_argument("--procs", type=int, default=2, help="load generator processes")
    ap.add_argument("--only", choices=["echo", "ninbai", "scales"], action="append", help="run only these parts")
    ap.add_argument("--label", default="", help="a note stored in the JSON (e.g. 'before fix')")
    ap.add_argument("--out", help="JSON file (default bench/results/line_bench.json, --quick: line_bench-quick.json)")
    ap.add_argument("--keep", help="keep the temporary directory (databases, logs) here")
    args = ap.parse_args()
    duration = args.duration or (6.0 if args.quick else 20.0)
    warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 3.0)
    scales = [int(x) for x in (args.scales or ("1000" if args.quick else "1000,10000")).split(",") if x]
    parts = set(args.only or ["echo", "ninbai", "scales"])
    args.out = args.out or str(ROOT / "bench/results" / ("line_bench-quick.json" if args.quick else "line_bench.json"))
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ninbai-line-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t_begin = time.monotonic()
    check_event_shapes()

    report: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "label": args.label,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {"gunicorn": "gunicorn.conf.py: 2 gthread web workers x 4 threads", "duration_s": duration,
                     "warmup_s": warmup, "moderate_users": args.users, "saturation_users": args.saturation,
                     "loadgen_procs": args.procs, "today": TODAY},
        "phases": [], "scales": [],
    }
    print(f"work dir: {workdir}", flush=True)
    print("timing understand() and DiagnosisDialog.step in-process ...", flush=True)
    report["micro"] = micro(3 if args.quick else 10)

    fake_port = free_port()
    common_env = {"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                  "LINE_API_BASE_URL": f"http://127.0.0.1:{fake_port}"}
    fake: FakeLineProcess | None = None
    app: Gunicorn | None = None

    def ninbai_env(db: str) -> dict[str, str]:
        return {**common_env, "NINBAI_DATABASE": db, "NINBAI_SECRET_KEY": "bench-" + "x" * 32,
                "NINBAI_TODAY": TODAY}

    def phase(name: str, target: str, load: str, users: int, db: str | None = None, dur: float = duration) -> dict:
        cfg = {"fake_port": fake_port, "app_port": app.port, "load": load, "target": target, "reply_timeout": 15.0}
        fake.control("clear", "POST")
        size0 = db_bytes(db) if db else None
        convs0 = conversations_in(db) if db else None
        watch = [("gunicorn", app.pids()), ("fake_line", [fake.proc.pid])]
        res = run_load(cfg, users, dur, warmup, args.procs, watch)
        res.update(name=name, target=target, load=load)
        stats = fake.control("stats")
        res["fake_line"] = {k: stats[k] for k in ("deliveries", "attempts", "errors", "loading")}
        if db:
            time.sleep(0.5)
            res["conversations_before"] = convs0
            res["conversations_after"] = conversations_in(db)
            res["db_growth_bytes"] = db_bytes(db) - size0
        report["phases"].append(res)
        print(f"  {name:<28} {res['events_per_s']:>7} ev/s  webhook p50/p99 {res['webhook_ms']['p50']}/"
              f"{res['webhook_ms']['p99']} ms  reply p50/p99 {res['reply_ms']['p50']}/{res['reply_ms']['p99']} ms"
              f"  no-reply {res['no_reply']}  cpu {res['cpu_percent']}", flush=True)
        return res

    try:
        fresh_db = str(workdir / "fresh.db")
        if "ninbai" in parts or "scales" in parts:
            # 1. correctness: every request the bot sends is valid against LINE's OpenAPI
            fake = FakeLineProcess(fake_port, validate=True, log=workdir / "fakeline.log").start()
            app = Gunicorn("ninbai", free_port(), ninbai_env(fresh_db), workdir / "ninbai.log").start()
            print("validating the bot's LINE requests against the OpenAPI description ...", flush=True)
            check = phase("check (validating fake)", "ninbai", "diagnosis", 3, fresh_db, dur=4.0)
            if check["fake_line"]["errors"] or check["no_reply"] or check["errors"]:
                print("  invalid requests or missing answers:", fake.control("stats")["first_errors"])
            report["check"] = report["phases"].pop()
            fake.stop()
            fake = FakeLineProcess(fake_port, validate=False, log=workdir / "fakeline.log").start()
            if "ninbai" in parts:
                print("CPU per event of each stage alone (in-process, one thread) ...", flush=True)
                report["stages"] = stage_costs(fake, workdir)
                fake.control("clear", "POST")
                app.sample()
                print("ninbai (fresh database):", flush=True)
                phase("ninbai text, moderate", "ninbai", "text", args.users, fresh_db)
                phase("ninbai text, saturation", "ninbai", "text", args.saturation, fresh_db)
                phase("ninbai diagnosis, moderate", "ninbai", "diagnosis", args.users, fresh_db)
                phase("ninbai diagnosis, saturation", "ninbai", "diagnosis", args.saturation, fresh_db)
                report["ninbai_memory"] = app.memory()
            else:
                phase("ninbai diagnosis (templates)", "ninbai", "diagnosis", args.users, fresh_db, dur=4.0)
                report["phases"].pop()
            app.stop()
        if "echo" in parts:
            if fake is None:
                fake = FakeLineProcess(fake_port, validate=False, log=workdir / "fakeline.log").start()
            app = Gunicorn("echo", free_port(), common_env, workdir / "echo.log").start()
            app.sample()
            print("echo bot (baseline):", flush=True)
            phase("echo text, moderate", "echo", "text", args.users)
            phase("echo text, saturation", "echo", "text", args.saturation)
            report["echo_memory"] = app.memory()
            app.stop()
        if "scales" in parts:
            tpl = templates(fresh_db)
            scale_db = str(workdir / "scale.db")
            for n in scales:
                print(f"pre-filling {n:,} conversations ...", flush=True)
                filled = fill(scale_db, tpl, n)
                size = db_bytes(scale_db)
                app = Gunicorn("ninbai", free_port(), ninbai_env(scale_db), workdir / "ninbai-scale.log").start()
                app.sample()
                res = phase(f"diagnosis @ {n:,} stored", "ninbai", "diagnosis", args.saturation, scale_db)
                res["memory"] = app.memory()
                app.stop()
                report["scales"].append({"stored": filled["conversations"], "fill": filled, "db_bytes": size,
                                         "db_mb_per_1000": round(size / filled["conversations"] * 1000 / 1e6, 2),
                                         "phase": res})
    finally:
        if app:
            app.stop()
        if fake:
            fake.stop()
    report["total_s"] = round(time.monotonic() - t_begin, 1)
    table = render(report)
    print(table)
    report["table"] = table
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    print(f"written: {args.out}  (work dir {workdir}{'' if args.keep else ', removed'})")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


def _f(v: Any, fmt: str = "{:.1f}") -> str:
    return "—" if v is None else fmt.format(v)


def render(r: dict[str, Any]) -> str:
    lines = []
    w = lines.append
    w("")
    w(f"LINE benchmark  {r['when']}  {r['machine']['cpus']} CPUs  python {r['machine']['python']}"
      f"  {r['settings']['gunicorn']}  {r['settings']['duration_s']:.0f} s/phase  {r['label']}")
    w("")
    hdr = (f"{'phase':<30}{'users':>6}{'ev/s':>8}{'wh p50':>8}{'wh p95':>8}{'wh p99':>8}{'rp p50':>8}"
           f"{'rp p99':>8}{'no-rp':>6}{'err':>5}{'app%':>6}{'fake%':>6}{'load%':>6}")
    w(hdr + "   (ms; wh = webhook 200, rp = answer at fake LINE)")
    w("-" * len(hdr))
    phases = r["phases"]  # the scale runs included
    for p in phases:
        c = p["cpu_percent"]
        w(f"{p['name']:<30}{p['users']:>6}{p['events_per_s']:>8.1f}{_f(p['webhook_ms']['p50']):>8}"
          f"{_f(p['webhook_ms']['p95']):>8}{_f(p['webhook_ms']['p99']):>8}{_f(p['reply_ms']['p50']):>8}"
          f"{_f(p['reply_ms']['p99']):>8}{p['no_reply']:>6}{p['errors']:>5}{c['gunicorn']:>6.0f}"
          f"{c['fake_line']:>6.0f}{c['loadgen']:>6.0f}")
    by = {p["name"]: p for p in r["phases"]}
    w("")
    checks = []
    ours, echo = by.get("ninbai text, saturation"), by.get("echo text, saturation")
    if ours and echo:
        ratio = ours["events_per_s"] / echo["events_per_s"]
        checks.append(("throughput at saturation (text), ninbai / echo", f"{ratio:.2f}x", ">= 0.80x", ratio >= 0.8))
        rp99 = ours["webhook_ms"]["p99"] / echo["webhook_ms"]["p99"]
        checks.append(("webhook p99 at saturation, ninbai / echo", f"{rp99:.2f}x", "<= 1.25x", rp99 <= 1.25))
        cpu = [10 * p["cpu_percent"]["gunicorn"] / p["events_per_s"] for p in (ours, echo)]
        checks.append(("app CPU per event at saturation (text), ninbai / echo", f"{cpu[0] / cpu[1]:.2f}x",
                       "<= 2.00x", cpu[0] / cpu[1] <= 2))
    ours_m, echo_m = by.get("ninbai text, moderate"), by.get("echo text, moderate")
    if ours_m and echo_m:
        rp50 = ours_m["reply_ms"]["p50"] / echo_m["reply_ms"]["p50"]
        checks.append((f"answer at LINE p50, {ours_m['users']} users (text), ninbai / echo", f"{rp50:.2f}x",
                       "<= 2.00x", rp50 <= 2))
    if "ninbai diagnosis, saturation" in by:
        ev = by["ninbai diagnosis, saturation"]["events_per_s"]
        checks.append(("full-dialog events/s (diagnosis, saturation)", f"{ev:.0f}", ">= 100", ev >= 100))
    for name in ("ninbai text, moderate", "ninbai diagnosis, moderate"):
        if name in by:
            p = by[name]["webhook_ms"]
            checks.append((f"webhook p50/p99, {name}", f"{p['p50']:.1f}/{p['p99']:.1f} ms", "< 50 ms", p["p99"] < 50))
    if r.get("check"):
        ch = r["check"]
        checks.append(("bot's LINE requests valid (OpenAPI), answered", f"{ch['fake_line']['errors']} invalid, "
                       f"{ch['no_reply']} unanswered of {ch['events']}", "0, 0",
                       not ch["fake_line"]["errors"] and not ch["no_reply"] and ch["events"] > 0))
    for label, value, target, ok in checks:
        w(f"{label:<52}{value:>20}   target {target:<9} {'PASS' if ok else 'MISS'}")
    mem = r.get("ninbai_memory") or {}
    if mem:
        w("ninbai worker memory (fresh DB run), MB: " + ", ".join(
            f"pid {k}: RSS {v['rss_mb']} peak {v['hwm_mb']}" for k, v in mem.items()))
    if r.get("echo_memory"):
        w("echo worker memory, MB: " + ", ".join(f"pid {k}: RSS {v['rss_mb']} peak {v['hwm_mb']}"
                                                 for k, v in r["echo_memory"].items()))
    fresh = [p for p in r["phases"] if p.get("db_growth_bytes") and "stored" not in p["name"]
             and p["conversations_after"] > p["conversations_before"]]
    if fresh:
        grow = sum(p["db_growth_bytes"] for p in fresh)
        convs = sum(p["conversations_after"] - p["conversations_before"] for p in fresh)
        w(f"database growth under load: {grow / 1e6:.1f} MB for {convs:,} new conversations "
          f"= {grow / convs * 1000 / 1e6:.1f} MB per 1,000 conversations")
    if r["scales"]:
        w("")
        w(f"{'stored conversations':>21}{'DB MB':>9}{'MB/1k':>7}{'fill s':>8}{'ev/s':>8}{'wh p50':>8}{'wh p99':>8}"
          f"{'rp p50':>8}{'rp p99':>8}{'worker peak RSS MB':>22}")
        for s in r["scales"]:
            p = s["phase"]
            peaks = "/".join(f"{v['hwm_mb']:.0f}" for v in p["memory"].values())
            w(f"{s['stored']:>21,}{s['db_bytes'] / 1e6:>9.0f}{s['db_mb_per_1000']:>7.1f}{s['fill']['fill_s']:>8.1f}"
              f"{p['events_per_s']:>8.1f}{_f(p['webhook_ms']['p50']):>8}{_f(p['webhook_ms']['p99']):>8}"
              f"{_f(p['reply_ms']['p50']):>8}{_f(p['reply_ms']['p99']):>8}{peaks:>22}")
    st = r.get("stages")
    if st:
        w("")
        w(f"CPU per event, each stage alone (one thread, in-process, {st['events']} diagnosis events,"
          f" {st['delivered']} delivered): webhook {st['webhook_ms']:.2f} + events {st['events_ms']:.2f}"
          f" + send {st['send_ms']:.2f} = {st['ninbai_total_ms']:.2f} ms;"
          f" echo bot's whole callback {st['echo_ms']:.2f} ms ({st['ninbai_total_ms'] / st['echo_ms']:.1f}x)")
    if ours and echo:
        per = [(p["name"], 10 * p["cpu_percent"]["gunicorn"] / p["events_per_s"]) for p in (ours, echo)]
        w("app CPU per event under load (app% x 10 / ev/s): "
          + ", ".join(f"{name} {v:.1f} ms" for name, v in per))
    m = r.get("micro")
    if m:
        w("")
        u, d = m["understand_ms"], m["dialog_step_ms"]
        w(f"understand(): median {u['median']:.3f} ms, p99 {u['p99']:.3f} ms over {u['messages']} corpus messages"
          f" ({u['calls']} calls)")
        w(f"DiagnosisDialog.step: median {d['median']:.3f} ms, p99 {d['p99']:.3f} ms over {d['steps']} steps (full walks)")
    w(f"total run time {r.get('total_s', 0):.0f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
