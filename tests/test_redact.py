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

from bot.insights.redact import ACCOUNT, ADDRESS, EMAIL, LINE_ID, NAME, PHONE, PLATE, WORKPLACE, redact

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


# --------------------------------------------------------------------------- labelled sets, per kind
NEW_KINDS = ("account", "workplace", "plate", "line_id")


def _eval():
    import importlib.util

    spec = importlib.util.spec_from_file_location("redaction_eval", Path(__file__).parents[1] / "bench" / "redaction_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["corpus", "heldout", "heldout2"])
def test_labelled_sets_meet_the_targets(name):
    """Floors: the development corpus, held-out set 1 and held-out set 2 (redact2 round: before 62/87
    messages fully masked, 6 strict misses; after 87/87, 0)."""
    ev = _eval()
    items = ev.load(name)
    if name == "corpus":
        assert len(items) >= 150
    elif name == "heldout2":
        assert len(items) >= 80 and sum(not i.get("mask") for i in items) >= 20
    else:
        assert len(items) >= 60
    s = ev.score(items)
    for kind, (masked, total) in s["per"].items():
        if name == "heldout" and kind in NEW_KINDS:
            assert not total  # set 1 was written before these kinds existed
            continue
        assert total, kind  # every kind is measured
        if kind == "name":
            assert masked / total >= 0.95, (kind, s["misses"])
        else:
            assert masked == total, (kind, s["misses"])
    assert s["strict"] == []
    assert s["decoys"] >= 15 and s["decoys_changed"] * 15 <= s["decoys"]
    assert s["kept"] >= 0.95 * s["keep_total"]


def test_heldout3_floor():
    """Set 3, a small fresh set for the redact2 mechanisms, measured once: 18/20 messages fully masked,
    1/12 decoys changed, 19/20 kept (a workplace before 「で職人」 and a building name without a building
    word missed)."""
    ev = _eval()
    s = ev.score(ev.load("heldout3"))
    assert s["with_personal"] >= 20 and s["decoys"] >= 12
    assert s["full"] >= 18 and s["strict"] == []
    assert s["decoys_changed"] <= 1 and s["kept"] >= 19


def test_bot_content_and_plain_answers_are_not_masked():
    ev = _eval()
    s = ev.score(ev.load("content"))
    assert s["decoys"] > 500 and s["decoys_changed"] <= s["decoys"] // 100


def test_stored_name_parts_readings_and_display_name():
    assert redact("ヤマダです。タロウの妻です", known=["山田太郎"]) == f"{NAME}です。{NAME}の妻です"
    assert redact("やまだ", known=["山田 太郎"]) == NAME
    assert redact("Taro Yamada", known=["山田太郎"]) == NAME
    assert redact("まさこです", known=["まさこ🌸ママ"]) == f"{NAME}です"


def test_procedure_dates_stay_birthdates_go():
    text = "昭和50年4月3日生まれ、48歳です。開札は令和8年2月10日、入札期間は1月20日から"
    assert redact(text) == "【生年月日】生まれ、48歳です。開札は令和8年2月10日、入札期間は1月20日から"


def test_redacting_twice_changes_nothing():
    for text in ("事件番号：令和７年（ヌ）第２３号 横浜地方裁判所", "氏名:大河内 誠 電話:090-7766-1200",
                 "りそな銀行 普通 7654321、勤め先はコスモ物流、車は 世田谷 330 す 56-78、LINEのIDは kumi_1122",
                 "住所は1600023 東京都新宿区西新宿7-8-9です", "生年月日は1979年11月30日です"):
        once = redact(text)
        assert once != text and redact(once) == once


def test_new_kinds_are_labelled_and_what_marketing_needs_stays():
    assert redact("返済口座は りそな銀行 普通 7654321 です") == f"返済口座は りそな銀行 普通 {ACCOUNT} です"
    assert redact("預金は300万円ほどあります") == "預金は300万円ほどあります"
    assert redact("夫は株式会社青木電設で働いています") == f"夫は株式会社{WORKPLACE}で働いています"
    for plain in ("工場で働いています", "大阪で働いています", "近くのスーパーでパートをしています", "会社は去年倒産しました",
                  "勤務先は市役所です", "分譲マンションの3階です", "タワーマンションです", "IDとパスワードを忘れました"):
        assert redact(plain) == plain
    assert redact("車は 世田谷 330 す 56-78 です") == f"車は {PLATE} です"
    assert redact("LINEのIDは kumi_1122 です") == f"LINEのIDは {LINE_ID} です"
    assert redact("ID検索で @tomo.home へ") == f"ID検索で {LINE_ID} へ"
    assert redact("コーポ若葉の203号室です") == f"{ADDRESS}です"
    assert redact("マンションの805号室") == f"マンションの{ADDRESS}"


def test_a_name_found_once_is_hidden_everywhere_in_the_message():
    out = redact("元夫の石丸和樹は、石丸運送という会社をやっています")
    assert "石丸" not in out and out.count(NAME) == 2


def test_a_name_beside_a_phone_number():
    assert redact("連絡は、のぶこ 090-2233-4455 まで") == f"連絡は、{NAME} {PHONE} まで"
    for word in ("携帯", "自宅", "夜"):
        assert redact(f"{word} 090-2233-4455") == f"{word} {PHONE}"
