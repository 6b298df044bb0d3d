"""LineClient's reply and push against the fake LINE server: what a send's outcome keeps
(status, LINE's request id, the error body) while LINE's answer is not read into the SDK's
response model (``_preload_content=False``, bot/channels/line_api.py)."""
from __future__ import annotations

from bot.channels.line_api import LineClient
from tests.support.fakeline import FakeLine

USER = "U" + "a" * 32
MESSAGES = [{"type": "text", "text": "こんにちは"}]


def test_reply_and_push_keep_status_request_id_and_error_body() -> None:
    with FakeLine() as line:
        client = LineClient("test-token", base_url=line.url, backoff=0.0)
        token = line.issue_reply_token(USER)
        first = client.reply(token, MESSAGES)
        assert first.ok and first.status == 200 and first.request_id
        again = client.reply(token, MESSAGES)  # a used token: LINE says 400, with its reason
        assert not again.ok and again.status == 400 and again.request_id and "reply token" in again.error.lower()
        pushed = client.push(USER, MESSAGES, "123e4567-e89b-12d3-a456-426614174000")
        assert pushed.ok and pushed.request_id and pushed.request_id not in (first.request_id, again.request_id)
        assert line.texts_to(USER) == ["こんにちは", "こんにちは"]
        bad = LineClient("wrong-token", base_url=line.url).push(USER, MESSAGES, "123e4567-e89b-12d3-a456-426614174001")
        assert (bad.ok, bad.status, bad.retryable) == (False, 401, False) and "access token" in bad.error


def test_a_failed_push_is_retried_by_the_client_and_later_sends_go_through() -> None:
    with FakeLine() as line:
        client = LineClient("test-token", base_url=line.url, backoff=0.0)
        line.fail_next(1, 500)
        outcome = client.push(USER, MESSAGES, "123e4567-e89b-12d3-a456-426614174002")
        assert outcome.ok and outcome.status == 200
        assert [a["status"] for a in line.attempts] == [500]  # the one refused try, then the 200
        for i in range(3):  # each answer read to its end: its connection goes back to the pool
            assert client.push(USER, MESSAGES, f"123e4567-e89b-12d3-a456-42661417401{i}").ok
        assert line.texts_to(USER) == ["こんにちは"] * 4
