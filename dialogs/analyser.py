"""The Japanese analyser (SudachiPy with its core dictionary), shared by the dialog and the
redactor: the dictionary is loaded once per process (~70 MB), a tokenizer made per thread
(a tokenizer must not be shared between threads)."""
from __future__ import annotations

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
