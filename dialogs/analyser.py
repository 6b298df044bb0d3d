"""The Japanese analyser (SudachiPy with its core dictionary), shared by the dialog and the
redactor: the dictionary is loaded once per process (~70 MB), a tokenizer made per thread
(a tokenizer must not be shared between threads)."""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any, NamedTuple

_LOCAL = threading.local()


class Token(NamedTuple):
    begin: int
    end: int
    surface: str
    pos: tuple[str, ...]  # 品詞: ("名詞", "固有名詞", "人名", "姓", ...)
    oov: bool  # not in the dictionary


@lru_cache(maxsize=1)
def dictionary() -> Any:
    from sudachipy import Dictionary

    return Dictionary(dict="core")


def tokenizer() -> Any:
    """This thread's tokenizer (split mode C: the longest units, e.g. whole names)."""
    tok = getattr(_LOCAL, "tok", None)
    if tok is None:
        from sudachipy import SplitMode

        tok = _LOCAL.tok = dictionary().create(mode=SplitMode.C)
    return tok


def tokens(text: str) -> list[Token]:
    return [Token(m.begin(), m.end(), m.surface(), tuple(m.part_of_speech()), m.is_oov())
            for m in tokenizer().tokenize(text)]


def is_person_name(t: Token) -> bool:
    return t.pos[1:3] == ("固有名詞", "人名")


_KANA_WORD = re.compile(r"[ぁ-んー]{2,}")
_HAS_KANJI = re.compile(r"[一-龥]")
#: a one-kana content word is a fragment of a word the dictionary did not find
_FRAGMENT = frozenset({"名詞", "代名詞", "副詞", "接頭辞", "感動詞", "形状詞", "連体詞"})


def kanji_spelling(text: str) -> str:
    """``text`` with the common nouns typed in hiragana written as the dictionary writes them
    (「ぎんこう」→「銀行」, 「かんけいない」→「関係ない」, 「りこん」→「離婚」) and the spoken
    negation read as ない (「いねー」→「いない」): SudachiPy's normalized forms. Names and
    inflected words stay as typed."""
    if not _KANA_WORD.search(text):
        return text
    morphemes = list(tokenizer().tokenize(text))
    if any(m.is_oov() or (len(m.surface()) == 1 and m.part_of_speech()[0] in _FRAGMENT
                          and _KANA_WORD.fullmatch(m.surface() * 2)) for m in morphemes):
        return text  # kana the dictionary cut into fragments (「ほしょうがいしゃ」→ ほ/障害/しゃ): as typed
    out = []
    for m in morphemes:
        surface, pos, norm = m.surface(), m.part_of_speech(), m.normalized_form()
        if pos[:2] == ("名詞", "普通名詞") and pos[2] != "副詞可能" and _KANA_WORD.fullmatch(surface) \
                and _HAS_KANJI.search(norm):  # not pronouns (これ→此れ) nor adverbial nouns (あと→後)
            out.append(norm)
        elif pos[0] == "助動詞" and norm == "ない":
            out.append("ない")
        else:
            out.append(surface)
    return "".join(out)
