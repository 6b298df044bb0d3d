"""dialogs/understanding/context.py: a reply read as the answer to the question asked, and contact details in a sentence."""
from __future__ import annotations

import pytest

from dialogs.understanding.context import core, find_email, find_name, find_phone, find_time, polarity, strip_asides

POLARITY = [
    # no, in every politeness and script
    ("いいえ", "no"), ("いません", "no"), ("いないです", "no"), ("いませんね", "no"), ("居ないです", "no"),
    ("してないです", "no"), ("してません", "no"), ("していません。", "no"), ("ないですね", "no"), ("無いです", "no"),
    ("まだ", "no"), ("まだです", "no"), ("まだですね〜", "no"), ("特にないです", "no"), ("ありません", "no"),
    ("なし", "no"), ("ちがいます", "no"), ("違います", "no"), ("おりません", "no"), ("ございません", "no"),
    ("来てないです", "no"), ("届いていません", "no"), ("とどいてない", "no"), ("ううん", "no"),
    # yes
    ("はい", "yes"), ("います", "yes"), ("いるよ", "yes"), ("居ます", "yes"), ("あります", "yes"), ("ええ", "yes"),
    ("そうです", "yes"), ("うん", "yes"), ("はい、います", "yes"), ("届きました", "yes"), ("お願いします", "yes"),
    # no preference
    ("どっちでもいい", "no_preference"), ("どちらでもいいです", "no_preference"), ("決めてません", "no_preference"),
    ("まだ決めていない", "no_preference"), ("迷ってます", "no_preference"), ("こだわらないです", "no_preference"),
    # don't know
    ("わからない", "dont_know"), ("分かりません", "dont_know"), ("わかんないです", "dont_know"),
    ("知らないです", "dont_know"), ("覚えてない", "dont_know"), ("忘れました", "dont_know"),
    # asides and "as I said" ignored
    ("（前にも言いましたが）いません", "no"), ("さっきも言ったけど、いないです", "no"),
    ("前にも書きましたが、まだです", "no"), ("はい(夫です)", "yes"),
    # not a yes/no
    ("4ヶ月です", None), ("フラット35", None), ("", None),
]


@pytest.mark.parametrize("text,expected", POLARITY)
def test_polarity(text, expected):
    assert polarity(text) == expected


def test_asides_and_core():
    assert strip_asides("（念のため）単独です") == "単独です"
    assert core("前にも言いましたが、いません。") == "いません"


PHONES = [
    ("090-1234-5678", "09012345678"),
    ("０９０ー１２３４ー５６７８", "09012345678"),  # full-width, a long-vowel mark as the hyphen
    ("09012345678", "09012345678"),
    ("電話は090 1234 5678です", "09012345678"),
    ("090の1234の5678にお願いします", "09012345678"),
    ("〇九〇一二三四五六七八", "09012345678"),  # 漢数字
    ("+81 90-1234-5678", "09012345678"),
    ("03(1234)5678", "0312345678"),
    ("連絡は電話で。070-1111-2222、昼休みなら出られます", "07011112222"),
    ("携帯 080−9876−5432 です", "08098765432"),
    ("06-6123-4567", "0661234567"),
    ("4ヶ月滞納しています", None),
    ("令和8年12月11日", None),
]


@pytest.mark.parametrize("text,expected", PHONES)
def test_find_phone(text, expected):
    assert find_phone(text) == expected


EMAILS = [
    ("yamada@example.jp", "yamada@example.jp"),
    ("メールは Yamada.Taro@Example.CO.JP でお願いします", "yamada.taro@example.co.jp"),
    ("yamada アットマーク example.jp", "yamada@example.jp"),
    ("taro＠example．jp", "taro@example.jp"),  # full-width
    ("hanako あっとまーく mail ドット example ドット jp", "hanako@mail.example.jp"),
    ("メールはありません", None),
]


@pytest.mark.parametrize("text,expected", EMAILS)
def test_find_email(text, expected):
    assert find_email(text) == expected


NAMES = [
    ("山田です", "山田"),
    ("山田花子", "山田花子"),
    ("名前は佐藤で、夜なら出られます", "佐藤"),
    ("田中と申します。よろしくお願いします", "田中"),
    ("私は鈴木です。電話は090-1234-5678", "鈴木"),
    ("たなかです", "たなか"),
    ("ヤマダ様", "ヤマダ"),
    ("電話で連絡してほしいです", None),
    ("名前は言いたくないです", None),
    ("よろしくお願いします", None),
    ("昼休みなら出られます", None),
    ("夫の名義で借りていて、私は連帯保証人になっています", None),
]


@pytest.mark.parametrize("text,expected", NAMES)
def test_find_name(text, expected):
    assert find_name(text) == expected


TIMES = [
    ("昼休みなら出られます", "afternoon"),
    ("午前中がいいです", "morning"),
    ("夜なら大丈夫", "evening"),
    ("18時以降", "evening"),
    ("10時ごろ", "morning"),
    ("午後3時すぎ", "afternoon"),
    ("14時から16時", "afternoon"),
    ("仕事のあとなら", "evening"),
    ("いつでもいいです", "any"),
    ("090-1234-5678", None),
    ("特にありません", None),
]


@pytest.mark.parametrize("text,expected", TIMES)
def test_find_time(text, expected):
    assert find_time(text) == expected


@pytest.mark.parametrize("text", ["夫には内緒です。電話は 090-2468-1357 にお願いします", "夫には内緒です", "内緒です",
                                  "急いでます", "家族には秘密で"])
def test_a_sentence_that_names_nobody_gives_no_name(text: str) -> None:
    """The analyser (SudachiPy) reads the candidate: a particle or a common word is no name."""
    assert find_name(text) is None


@pytest.mark.parametrize("text,name", [("テスト太郎です", "テスト太郎"), ("スミスです", "スミス"),
                                       ("名前はさとうです", "さとう"), ("田中一郎", "田中一郎")])
def test_names_the_dictionary_does_not_list_are_still_names(text: str, name: str) -> None:
    assert find_name(text) == name
