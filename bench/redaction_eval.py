"""Redaction evaluation (not a test): per-kind recall, over-masking, strict digit check.

    .venv/bin/python bench/redaction_eval.py [--set corpus|heldout|heldout2|heldout3|content|all] [--show-misses]

Scores ``bot.insights.redact.redact`` on the labelled sets in tests/data/:

* ``redaction_labelled.yaml`` + ``redaction_corpus.yaml`` — the development corpus (tuned on);
* ``redaction_heldout.yaml`` — written before the redactor was changed, never tuned on;
* ``redaction_heldout2.yaml`` — set 2 (redact2 round: also bank accounts, employers, car plates,
  LINE ids), written before the redactor was read or changed, never tuned on;
* ``redaction_heldout3.yaml`` — a small fresh set for the redact2 mechanisms, never tuned on;
* ``content`` — every Japanese line of content/*.yaml and tests/data/understanding_corpus.yaml
  (bot messages and what homeowners type, without personal data): decoys only.

Each item lists what must be masked per kind and what must stay visible (see the
files' headers). Printed per kind: recall (items whose string no longer appears,
compared after NFKC without spaces); strict misses (a run of 4+ digits of a masked
item still in the output, 漢数字 read as digits); decoy messages (nothing personal)
changed at all; strings that must stay visible, kept; and the redaction's CPU time
per message.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.insights.redact import redact  # noqa: E402

SETS = {"corpus": ROOT / "tests/data/redaction_labelled.yaml", "heldout": ROOT / "tests/data/redaction_heldout.yaml",
        "heldout2": ROOT / "tests/data/redaction_heldout2.yaml", "heldout3": ROOT / "tests/data/redaction_heldout3.yaml"}
EXACT = ROOT / "tests/data/redaction_corpus.yaml"  # text + exact expected output, read as labelled items
KINDS = ("name", "phone", "email", "postcode", "address", "birthdate", "case", "account", "workplace", "plate",
         "line_id")
_KANJI = str.maketrans("〇一二三四五六七八九零", "01234567890")


def _flat(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _digits_view(s: str) -> str:
    return unicodedata.normalize("NFKC", s).translate(_KANJI)


_LABEL_KINDS = {"【氏名】": "name", "【電話番号】": "phone", "【メール】": "email", "【郵便番号】": "postcode",
                "【住所】": "address", "【生年月日】": "birthdate", "【事件番号】": "case", "【口座番号】": "account",
                "【勤務先】": "workplace", "【ナンバー】": "plate", "【ID】": "line_id", "【番号】": "account"}


def from_exact(corpus: dict) -> list[dict]:
    """Exact-output items as labelled ones: what each 【…】 replaced must not survive."""
    items = []
    for group in corpus.values():
        for item in group:
            text, expect = item["text"], item["expect"]
            labels = re.findall("|".join(_LABEL_KINDS), expect)
            if not labels:
                items.append({"text": text, "keep": [text]})
                continue
            pattern = "".join(re.escape(p) if i % 2 == 0 else "(.+?)"
                              for i, p in enumerate(re.split("(" + "|".join(_LABEL_KINDS) + ")", expect)))
            m = re.fullmatch(pattern, text, re.S)
            mask: dict[str, list[str]] = {}
            for label, value in zip(labels, m.groups() if m else (), strict=False):
                mask.setdefault(_LABEL_KINDS[label], []).append(value)
            items.append({"text": text, "mask": mask})
    return items


def content_lines() -> list[dict]:
    """Every Japanese line of content/*.yaml and of the understanding corpus: nothing to mask.

    Lines with the example phone number or e-mail address of the contact step are left out.
    """
    texts: list[str] = []

    def walk(x) -> None:
        if isinstance(x, str):
            texts.extend(line for line in x.split("\n") if re.search("[ぁ-んァ-ヴ一-龥]", line))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for path in [*sorted((ROOT / "content").glob("*.yaml")), ROOT / "tests/data/understanding_corpus.yaml"]:
        walk(yaml.safe_load(path.read_text("utf-8")))
    return [{"text": t} for t in dict.fromkeys(texts) if "@" not in t and "090-1234" not in t]


def load(name: str) -> list[dict]:
    if name == "content":
        return content_lines()
    items = yaml.safe_load(SETS[name].read_text("utf-8"))
    if name == "corpus":
        items += from_exact(yaml.safe_load(EXACT.read_text("utf-8")))
    return items


def score(items: list[dict]) -> dict:
    per = {k: [0, 0] for k in KINDS}  # masked, total
    strict: list[tuple[str, str]] = []
    misses: list[tuple[str, str, str]] = []
    decoys = decoys_changed = kept = keep_total = full = with_personal = 0
    cpu = 0.0
    for item in items:
        text = item["text"]
        t = time.process_time()
        out = redact(text, item.get("known") or ())
        cpu += time.process_time() - t
        flat_out, digits_out = _flat(out), _digits_view(out)
        mask = item.get("mask") or {}
        all_masked = True
        for kind, values in mask.items():
            for v in values:
                v = str(v)
                per[kind][1] += 1
                if _flat(v) in flat_out:
                    all_masked = False
                    misses.append((kind, v, out))
                else:
                    per[kind][0] += 1
                runs = re.findall(r"\d{4,}", _digits_view(v)) + [re.sub(r"\D", "", _digits_view(v))]
                if any(len(r) >= 4 and r in digits_out for r in runs):
                    strict.append((v, out))
        if mask:
            with_personal += 1
            full += all_masked
        else:
            decoys += 1
            decoys_changed += out != text
        for k in item.get("keep") or ():
            keep_total += 1
            if _flat(str(k)) in flat_out:
                kept += 1
            else:
                misses.append(("keep", str(k), out))
    return {"per": per, "strict": strict, "misses": misses, "decoys": decoys, "decoys_changed": decoys_changed,
            "kept": kept, "keep_total": keep_total, "full": full, "with_personal": with_personal,
            "cpu_ms": cpu * 1000 / max(1, len(items)), "n": len(items)}


def report(name: str, s: dict, show_misses: bool) -> None:
    print(f"\n{name}: {s['n']} messages ({s['with_personal']} with personal data, {s['decoys']} decoys)")
    print(f"{'kind':<10} {'masked':>7} {'of':>4} {'recall':>8}")
    for kind, (ok, total) in s["per"].items():
        if total:
            print(f"{kind:<10} {ok:>7} {total:>4} {ok / total:>8.1%}")
    print(f"messages fully masked      {s['full']}/{s['with_personal']} ({s['full'] / max(1, s['with_personal']):.1%})")
    print(f"strict misses (4+ digits)  {len(s['strict'])}")
    print(f"decoys over-masked         {s['decoys_changed']}/{s['decoys']}"
          f" (1 in {s['decoys'] / s['decoys_changed']:.0f})" if s["decoys_changed"] else
          f"decoys over-masked         0/{s['decoys']}")
    print(f"kept visible               {s['kept']}/{s['keep_total']} ({s['kept'] / max(1, s['keep_total']):.1%})")
    print(f"CPU per message            {s['cpu_ms']:.2f} ms")
    if show_misses:
        for kind, v, out in s["misses"]:
            print(f"  MISS {kind}: {v!r} in {out!r}")
        for v, out in s["strict"]:
            print(f"  STRICT: {v!r} in {out!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=[*SETS, "content", "all"], default="all")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    redact("山田太郎です")  # load the analyser outside the timings
    for name in [*SETS, "content"]:
        if args.set in (name, "all"):
            report(name, score(load(name)), args.show_misses)


if __name__ == "__main__":
    main()
