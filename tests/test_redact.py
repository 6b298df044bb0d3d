"""Redaction of personal data (bot/insights/redact.py) over a corpus of what people type.

tests/data/redaction_corpus.yaml: phones in every form (full-width, spaces, +81,
parentheses, 漢数字), e-mails (full-width ＠), postal codes, street addresses, names
introduced in the dialog, mixed messages, and negatives that must stay untouched
(durations, dates, amounts, answers that look like 「Xです」).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.insights.redact import EMAIL, NAME, PHONE, redact

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "redaction_corpus.yaml").read_text("utf-8"))
ITEMS = [(group, item["text"], item["expect"]) for group, items in CORPUS.items() for item in items]


def test_corpus_is_large_enough():
    assert len(ITEMS) >= 60
    assert len(CORPUS["negatives"]) >= 15
    for must in ("3ヶ月", "令和8年12月11日に開札です", "1〜2ヶ月です", "10万円"):
        assert any(text == must for _, text, _ in ITEMS), must


@pytest.mark.parametrize(("group", "text", "expect"), ITEMS, ids=[f"{g}-{i}" for i, (g, _, _) in enumerate(ITEMS)])
def test_corpus(group, text, expect):
    assert redact(text) == expect


def test_unrelated_text_kept_exactly_as_written():
    # full-width text around a phone number stays full-width
    assert redact("ＡＢＣ社です。０３－１２３４－５６７８（代表）") == "ＡＢＣ社です。【電話番号】（代表）"


def test_known_values_from_the_dialog():
    # a bare name typed at the name question is caught through the stored contact
    assert redact("山田太郎", known=["山田太郎"]) == NAME
    assert redact("やまだ たろう", known=["やまだたろう"]) == NAME
    assert redact("番号 090 1234 5678", known=["09012345678"]) == f"番号 {PHONE}"
    assert redact("t@example.com", known=["t@example.com"]) == EMAIL


def test_none_and_empty():
    assert redact(None) == ""
    assert redact("") == ""


# Domain words and short numbers in any order, each followed by a particle or a mark, as
# people write (kanji drawn and glued at random form rare surnames the analyser knows: 円日).
WORDS = ("滞納 督促状 競売 開札 入札 3ヶ月 2年 15日 10万円 1 23 456 任意売却 銀行 返済 ローン 住宅 "
         "通知 夫 妻 共有 離婚 保証人 相談 横浜市 埼玉県 45歳 令和8年3月5日").split()
PARTICLES = ("は", "が", "を", "に", "の", "で", "です", "、", "。", "〜", " ")
SAFE = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(PARTICLES)), max_size=12).map(
    lambda pairs: "".join(w + p for w, p in pairs))


@settings(max_examples=200, deadline=None)
@given(SAFE)
def test_text_without_personal_data_is_unchanged(text):
    # short digit runs, kana and domain words: nothing to hide
    assert redact(text) == text
