"""A process killed mid-event loses nothing and doubles nothing."""
from __future__ import annotations

import time

from tests.conftest import SECRET, TOKEN
from tests.support import webhooks
from tests.support.server import ServerProcess


def test_killed_with_events_pending_answers_all_after_restart(tmp_path, fake_line):
    env = {
        "NINBAI_DATABASE": str(tmp_path / "ninbai.db"),
        "NINBAI_SECRET_KEY": "test",
        "NINBAI_REPLY_TOKEN_TTL": "2",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": fake_line.url,
    }
    server = ServerProcess(env, log_path=tmp_path / "server.log").start()
    users = [webhooks.make_user_id() for _ in range(3)]
    # The first reply hangs in LINE for 3 s: the process dies in the middle of a send.
    fake_line.delay_next(1, 3.0, path_prefix="/v2/bot/message/reply")
    sent = 0
    try:
        for i in range(3):
            for user in users:
                ev = webhooks.text_event(user, f"{i + 1}ヶ月滞納しています",
                                         reply_token=fake_line.issue_reply_token(user))
                raw, headers = webhooks.request([ev], SECRET)
                assert server.post("/callback", raw, headers) == 200
                sent += 1
        fake_line.wait_for(lambda: any(r["path"].endswith("/reply") for r in fake_line.requests))
        server.kill()
    finally:
        server.kill()
    answered_before = len(fake_line.deliveries)
    assert answered_before < sent  # work was really left behind
    time.sleep(3.5)  # the remaining reply tokens are now past NINBAI_REPLY_TOKEN_TTL
    restarted = ServerProcess(env, log_path=tmp_path / "server.log").start()
    try:
        fake_line.wait_for(lambda: len(fake_line.deliveries) >= sent, timeout=30)
        time.sleep(1.0)  # anything doubled would show up now
    finally:
        restarted.stop()
    for user in users:
        mine = [d for d in fake_line.deliveries if d["to"] == user]
        assert len(mine) == 3, (user, mine)
    kinds = [d["kind"] for d in fake_line.deliveries]
    assert "push" in kinds  # expired tokens fell back to push
    assert all(d["retry_key"] for d in fake_line.deliveries if d["kind"] == "push")
    assert fake_line.errors == []
    log = (tmp_path / "server.log").read_text()
    assert "recovered" in log
