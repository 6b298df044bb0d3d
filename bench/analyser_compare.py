"""Names by the analyser alone: SudachiPy (the redactor's rules) against GiNZA's NER (not a test).

GiNZA is not a dependency: measure it in a separate virtualenv,

    python3 -m venv /tmp/ginza-venv && /tmp/ginza-venv/bin/pip install ja-ginza==5.3.0 ginza==5.3.0 pyyaml
    /tmp/ginza-venv/bin/python bench/analyser_compare.py

For every name of the labelled sets (tests/data/redaction_labelled.yaml and
redaction_heldout.yaml) it tells whether the analyser finds it (recall), and for
every message without a name (decoys of both sets, every Japanese line of
content/*.yaml and of the understanding corpus) whether it marks something as a
name anyway (over-masking); with the CPU time per message. Only the
analyser-based part of each is compared: the redactor adds labels, signatures,
romaji, kana before honorifics and the stored names on top of SudachiPy.
"""
from __future__ import annotations

import sys
import time
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bot.insights import redact  # noqa: E402


def _content() -> list[str]:
    """The lines of content/ and of the understanding corpus that must stay as they are."""
    from redaction_eval import content_lines  # bench/ is on the path of a bench script

    return [item["text"] for item in content_lines()]


def sudachi_spans(text: str) -> list[tuple[int, int]]:
    norm, _ = redact._normalize(text)
    return [(s, e) for s, e, _ in redact._analyser_names(norm)]


def main() -> None:
    import spacy

    nlp = spacy.load("ja_ginza")

    def ginza_spans(text: str) -> list[tuple[int, int]]:
        doc = nlp(unicodedata.normalize("NFKC", text))
        return [(e.start_char, e.end_char) for e in doc.ents if e.label_ in ("Person", "PERSON")]

    named, decoys = [], []
    for name in ("redaction_labelled.yaml", "redaction_heldout.yaml"):
        for item in yaml.safe_load((ROOT / "tests/data" / name).read_text("utf-8")):
            names = (item.get("mask") or {}).get("name")
            if names:
                named.append((item["text"], [str(n) for n in names]))
            elif not item.get("mask"):
                decoys.append(item["text"])
    decoys += _content()
    for label, finder in (("SudachiPy (core) + rules", sudachi_spans), ("GiNZA ja_ginza NER", ginza_spans)):
        finder("山田太郎です")
        found = total = over = 0
        cpu = 0.0
        for text, names in named:
            t = time.process_time()
            spans = finder(text)
            cpu += time.process_time() - t
            norm = unicodedata.normalize("NFKC", text)
            for n in names:
                total += 1
                at = norm.find(unicodedata.normalize("NFKC", n))
                found += any(s <= at < e for s, e in spans) if at >= 0 else 0
        for text in decoys:
            t = time.process_time()
            over += bool(finder(text))
            cpu += time.process_time() - t
        n_msgs = len(named) + len(decoys)
        print(f"{label:<26} names found {found}/{total} ({found / total:.1%}); decoys marked {over}/{len(decoys)}"
              f" ({over / len(decoys):.1%}); {cpu * 1000 / n_msgs:.2f} ms CPU per message")


if __name__ == "__main__":
    sys.exit(main())
