"""Load and check the bot's words (``content/``).

Everything the bot says lives in ``content/*.yaml`` (Japanese); dialogs only name
keys. ``load_content(path)`` reads the directory once at start-up into a
:class:`Content`; ``check_content(content)`` returns human-readable problems
(an empty list means the content is fine) and is run by the tests and at start-up.

* ``content/<stem>.yaml`` → ``content.data[<stem>]``.
* ``content/**/*.md`` with a YAML front-matter block (``---`` … ``---``) →
  ``content.data["articles"][<stem>] = {"meta": {...}, "body": "..."}``.

Keys are dotted paths; list items are addressed by number:
``content.get("knowledge.steps.0.title")``.

Plain Python: no Flask, no linebot.
"""

from __future__ import annotations

import functools
import logging
import re
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from dialogs.assessment import ALL_STAGES, LATEST_NOTICE_VALUES, SPECIAL_CASES, URGENCIES
from dialogs.diagnosis.vocabulary import FAQ_TOPICS as DIALOG_FAQ_TOPICS
from dialogs.diagnosis.vocabulary import CONTACT_TIMES, MEDIA_KINDS

logger = logging.getLogger(__name__)

# libyaml's loader when available (about 10x faster); same safe semantics.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "MISSING",
    "Content",
    "ContentError",
    "load_content",
    "check_content",
    "labels",
    "utf16_len",
]


MISSING: Any = object()  # "no default given" (Content.get)


class ContentError(Exception):
    """A content file could not be read (bad YAML, bad front-matter, clash)."""


# ---------------------------------------------------------------------------
# Content
# ---------------------------------------------------------------------------


@dataclass
class Content:
    """All content, as loaded from YAML: ``data[<file stem>]`` → parsed YAML."""

    data: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    #: dotted key → the source named in a ``# source:`` comment right above it
    #: (filled by :func:`load_content`; YAML drops comments, so they are read here).
    comment_sources: dict[str, str] = field(default_factory=dict)

    # -- lookup ------------------------------------------------------------
    def _lookup(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, (dict, list)):
                raise KeyError(dotted)
            try:  # a list item by its number
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError):
                raise KeyError(dotted) from None
        return node

    def get(self, dotted: str, default: Any = MISSING) -> Any:
        """The value at ``dotted`` (e.g. ``"knowledge.stages.dunning.title"``).

        Raises ``KeyError`` when the key is missing and no ``default`` is given.
        """
        try:
            return self._lookup(dotted)
        except KeyError:
            if default is MISSING:
                raise
            return default

    def has(self, dotted: str) -> bool:
        try:
            self._lookup(dotted)
        except KeyError:
            return False
        return True

    def text(self, dotted: str, **fmt: Any) -> str:
        """The string at ``dotted``, passed through ``str.format(**fmt)``.

        Raises ``KeyError`` when the key is missing (or a placeholder has no
        value) and ``TypeError`` when the value is not a string.
        """
        value = self._lookup(dotted)
        if not isinstance(value, str):
            raise TypeError(f"content key {dotted!r} is {type(value).__name__}, not text")
        return value.format(**fmt)

    def __contains__(self, dotted: str) -> bool:
        return self.has(dotted)


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.S)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: invalid YAML: {exc}") from exc


_SOURCE_COMMENT = re.compile(r"#\s*source:\s*(\S.*)$")


def _comment_sources(text: str, stem: str) -> dict[str, str]:
    """``{dotted key: source}`` for each key with a ``# source: …`` comment in the
    block of comment lines right above it (or at the end of its own line)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}  # reported by the loader
    lines = text.splitlines()
    out: dict[str, str] = {}

    def above(line: int) -> str | None:
        m = _SOURCE_COMMENT.search(lines[line]) if line < len(lines) else None
        if m:
            return m.group(1).strip()
        j = line - 1
        while j >= 0 and lines[j].lstrip().startswith("#"):
            m = _SOURCE_COMMENT.search(lines[j])
            if m:
                return m.group(1).strip()
            j -= 1
        return None

    def walk(node: Any, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            items = [(str(k.value), k.start_mark.line, v) for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            items = [(str(i), v.start_mark.line, v) for i, v in enumerate(node.value)]
        else:
            return
        for key, line, child in items:
            p = f"{path}.{key}"
            src = above(line)
            if src:
                out[p] = src
            walk(child, p)

    walk(root, stem)
    return out


def _read_article(path: Path) -> dict[str, Any] | None:
    text = path.read_text(encoding="utf-8")
    m = _FRONT_MATTER.match(text)
    if not m:
        return None  # a plain Markdown file (e.g. a README), not an article
    try:
        meta = yaml.load(m.group(1), Loader=_YamlLoader) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: invalid front-matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: front-matter must be a mapping")
    return {"meta": meta, "body": m.group(2).strip("\n")}


def load_content(path: str | Path) -> Content:
    """Read every ``*.yaml`` in ``path`` (and Markdown articles below it) once."""
    root = Path(path)
    if not root.is_dir():
        raise ContentError(f"content directory not found: {root}")
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for file in sorted([*root.glob("*.yaml"), *root.glob("*.yml")]):
        stem = file.stem
        if stem in data:
            raise ContentError(f"{file}: two content files named {stem!r}")
        data[stem] = _read_yaml(file)
        sources.update(_comment_sources(file.read_text(encoding="utf-8"), stem))
    articles: dict[str, Any] = {}
    for file in sorted(root.rglob("*.md")):
        article = _read_article(file)
        if article is None:
            continue
        if file.stem in articles:
            raise ContentError(f"{file}: two articles named {file.stem!r}")
        articles[file.stem] = article
    if articles:
        if "articles" in data:
            raise ContentError("articles.yaml clashes with the Markdown articles")
        data["articles"] = articles
    logger.info("content loaded from %s: %s", root, ", ".join(sorted(data)))
    return Content(data=data, path=root, comment_sources=sources)


CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


@functools.cache
def labels() -> dict[str, dict[str, str]]:
    """The Japanese names of ids that the staff screens show (``content/labels.yaml``),
    read once: ``labels()["stage"]["dunning"]`` → 「督促状・催告書」."""
    return _read_yaml(CONTENT_DIR / "labels.yaml")


# ---------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------

# LINE Messaging API limits (see shared/line-openapi/messaging-api.yml).
LABEL_MAX = 20  # action label (quick reply / button)
POSTBACK_DATA_MAX = 300
QUICK_REPLY_MAX = 13
TEXT_MAX = 5000  # text message, counted in UTF-16 code units
ALT_TEXT_MAX = 1500
# Our own design limits.
TABLE_CELL_MAX = 40
EXPLAIN_NINBAI_MAX = 400
STAGE_TITLE_MAX = 20
FAQ_MIN = 20
FAQ_EXAMPLES_MIN = 10  # example questions per topic (the FAQ classifier learns from them)
FAQ_QUESTION_MAX = 60
CARE_LISTS = ("crisis", "not_crisis", "ordinary", "anger", "offtopic")  # content/care.yaml: the care classifiers' examples
FAQ_ANSWER_MAX = 500
DISCLAIMER_MAX = 300
PRIVACY_MAX = 700
CONSENT_MAX = 200

BUTTON_LIST_KEYS = ("buttons", "quick_replies")
POSTBACK_KEYS = ("data", "postback")

KNOWLEDGE_KEYS = (
    "glossary",
    "explain",
    "comparison",
    "merits",
    "cautions",
    "conditions",
    "steps",
    "cases",
    "stages",
    "special_cases",
    "deadlines",
    "advice",
)
GLOSSARY_TERMS = (
    "任意売却",
    "競売",
    "督促状",
    "催告書",
    "期限の利益喪失",
    "代位弁済",
    "保証会社",
    "競売開始決定",
    "特別送達",
    "現況調査",
    "執行官",
    "期間入札",
    "入札期間",
    "開札",
    "売却基準価額",
    "残債",
    "連帯保証人",
    "連帯債務",
    "共有名義",
    "リースバック",
    "信用情報",
    "債権者",
    "抵当権",
    "司法書士",
    "配分表",
)
LIST_COUNTS = {"merits": 6, "cautions": 4, "conditions": 3, "steps": 9, "cases": 4}
COMPARISON_COLUMNS = ["", "任意売却", "競売"]
COMPARISON_ROWS = (
    "売れる価格",
    "残ったローン",
    "周りに知られるか",
    "引っ越し代",
    "引っ越しの時期",
    "手続きの主導",
)
STAGE_IDS = ALL_STAGES
# template key -> the placeholders it must use (and the only ones it may use)
DEADLINE_PLACEHOLDERS: dict[str, set[str]] = {
    "legal_last_day": {"legal_last_day"},
    "plan_by": {"plan_by"},
    "ideal_by": {"ideal_by"},
    "days_left": {"days"},
    "estimate": {"estimate_from", "estimate_to"},
    "auction_window": {"estimate_from", "estimate_to"},
    "no_date": set(),
    "after_kaisatsu": set(),
}
FAQ_TOPICS = (*DIALOG_FAQ_TOPICS, "other")  # "other": entries no topic button leads to
FAQ_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
LEGAL_KEYS = {
    "disclaimer": DISCLAIMER_MAX,
    "privacy_notice": PRIVACY_MAX,
    "contact_consent": CONSENT_MAX,
    "company_note": 200,
}
COMPANY_NAME = "ninbai相談窓口"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the way LINE counts (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _placeholders(text: str) -> set[str]:
    """Field names used by a ``str.format`` template (raises ValueError if malformed)."""
    names: set[str] = set()
    for _literal, name, _spec, _conv in string.Formatter().parse(text):
        if name is not None:
            names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
    return names


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Yield ``(path, key, value)`` for every node; ``key`` is the mapping key or index."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            yield p, k, v
            yield from _walk(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            p = f"{path}.{i}" if path else str(i)
            yield p, i, v
            yield from _walk(v, p)


def _check_label(path: str, label: Any, problems: list[str]) -> None:
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{path}: button label is empty")
    elif utf16_len(label) > LABEL_MAX:
        problems.append(f"{path}: button label {label!r} is {utf16_len(label)} characters (LINE max {LABEL_MAX})")


def _check_line_limits(content: Content, problems: list[str]) -> None:
    """Generic checks over every file: buttons, postback data, text sizes, TODOs."""
    for path, key, value in _walk(content.data, ""):
        if isinstance(value, str):
            n = utf16_len(value)
            if n > TEXT_MAX:
                problems.append(f"{path}: text is {n} UTF-16 units (LINE max {TEXT_MAX})")
            if key == "alt_text" and n > ALT_TEXT_MAX:
                problems.append(f"{path}: alt_text is {n} UTF-16 units (LINE max {ALT_TEXT_MAX})")
            if "TODO" in value:
                problems.append(f"{path}: still contains TODO")
            try:
                _placeholders(value)
            except ValueError as exc:
                problems.append(f"{path}: not a valid format template ({exc}); write braces as {{{{ }}}}")
        if isinstance(value, dict):
            if "label" in value:
                _check_label(f"{path}.label", value["label"], problems)
                for pk in POSTBACK_KEYS:
                    data = value.get(pk)
                    if isinstance(data, str) and len(data) > POSTBACK_DATA_MAX:
                        problems.append(f"{path}.{pk}: postback data is {len(data)} characters"
                                        f" (LINE max {POSTBACK_DATA_MAX})")
        if key in BUTTON_LIST_KEYS and isinstance(value, (list, dict)):
            if len(value) > QUICK_REPLY_MAX:
                problems.append(f"{path}: {len(value)} buttons (LINE max {QUICK_REPLY_MAX})")
            if isinstance(value, dict):  # label -> trigger
                for label in value:
                    _check_label(f"{path}.{label}", label, problems)
            else:
                for i, item in enumerate(value):
                    if isinstance(item, str) or item is None:  # a bare label
                        _check_label(f"{path}.{i}", item, problems)
                    elif isinstance(item, dict) and "label" not in item:
                        problems.append(f"{path}.{i}: button without a label")


def _need_str(node: Any, path: str, problems: list[str], max_len: int | None = None) -> str | None:
    if not isinstance(node, str) or not node.strip():
        problems.append(f"{path}: missing or empty text")
        return None
    if max_len is not None and len(node) > max_len:
        problems.append(f"{path}: {len(node)} characters (max {max_len})")
    return node


def _need_map(node: Any, path: str, problems: list[str]) -> dict | None:
    if not isinstance(node, dict):
        problems.append(f"{path}: missing or not a mapping")
        return None
    return node


def _check_title_text_list(node: Any, path: str, count: int, problems: list[str]) -> None:
    if not isinstance(node, list):
        problems.append(f"{path}: missing or not a list")
        return
    if len(node) != count:
        problems.append(f"{path}: {len(node)} items, expected {count}")
    for i, item in enumerate(node):
        item = _need_map(item, f"{path}.{i}", problems)
        if item is None:
            continue
        _need_str(item.get("title"), f"{path}.{i}.title", problems)
        _need_str(item.get("text"), f"{path}.{i}.text", problems)


def _unknown(node: dict, path: str, known: Iterable[str], what: str, problems: list[str]) -> None:
    problems.extend(f"{path}.{key}: {what}" for key in node if key not in known)


def _check_knowledge(k: Any, problems: list[str]) -> None:
    k = _need_map(k, "knowledge", problems)
    if k is None:
        return
    problems.extend(f"knowledge.{key}: missing" for key in KNOWLEDGE_KEYS if key not in k)
    _unknown(k, "knowledge", KNOWLEDGE_KEYS, "unexpected top-level key", problems)

    glossary = _need_map(k.get("glossary"), "knowledge.glossary", problems)
    if glossary is not None:
        for term in GLOSSARY_TERMS:
            if term not in glossary:
                problems.append(f"knowledge.glossary.{term}: missing")
        for term, text in glossary.items():
            _need_str(text, f"knowledge.glossary.{term}", problems)

    explain = _need_map(k.get("explain"), "knowledge.explain", problems)
    if explain is not None:
        for key in ("ninbai", "keibai"):
            item = _need_map(explain.get(key), f"knowledge.explain.{key}", problems)
            if item is not None:
                _need_str(item.get("title"), f"knowledge.explain.{key}.title", problems)
                _need_str(item.get("text"), f"knowledge.explain.{key}.text", problems,
                          EXPLAIN_NINBAI_MAX if key == "ninbai" else None)

    comp = _need_map(k.get("comparison"), "knowledge.comparison", problems)
    if comp is not None:
        _need_str(comp.get("title"), "knowledge.comparison.title", problems)
        _need_str(comp.get("alt_text"), "knowledge.comparison.alt_text", problems)
        _need_str(comp.get("note"), "knowledge.comparison.note", problems)
        if comp.get("columns") != COMPARISON_COLUMNS:
            problems.append(f"knowledge.comparison.columns: expected {COMPARISON_COLUMNS}")
        rows = comp.get("rows")
        if not isinstance(rows, list):
            problems.append("knowledge.comparison.rows: missing or not a list")
        else:
            heads = []
            for i, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != len(COMPARISON_COLUMNS):
                    problems.append(f"knowledge.comparison.rows.{i}: expected {len(COMPARISON_COLUMNS)} cells")
                    continue
                heads.append(row[0])
                for j, cell in enumerate(row):
                    _need_str(cell, f"knowledge.comparison.rows.{i}.{j}", problems, TABLE_CELL_MAX)
            for head in COMPARISON_ROWS:
                if head not in heads:
                    problems.append(f"knowledge.comparison.rows: no row {head!r}")

    for key, count in LIST_COUNTS.items():
        _check_title_text_list(k.get(key), f"knowledge.{key}", count, problems)

    stages = _need_map(k.get("stages"), "knowledge.stages", problems)
    if stages is not None:
        for sid in STAGE_IDS:
            st = _need_map(stages.get(sid), f"knowledge.stages.{sid}", problems)
            if st is None:
                continue
            _need_str(st.get("title"), f"knowledge.stages.{sid}.title", problems, STAGE_TITLE_MAX)
            _need_str(st.get("summary"), f"knowledge.stages.{sid}.summary", problems)
            _need_str(st.get("next_step"), f"knowledge.stages.{sid}.next_step", problems)
        _unknown(stages, "knowledge.stages", STAGE_IDS, "unknown stage id", problems)

    special = _need_map(k.get("special_cases"), "knowledge.special_cases", problems)
    if special is not None:
        for key in SPECIAL_CASES:
            _need_str(special.get(key), f"knowledge.special_cases.{key}", problems)
        _unknown(special, "knowledge.special_cases", SPECIAL_CASES, "unexpected key", problems)

    deadlines = _need_map(k.get("deadlines"), "knowledge.deadlines", problems)
    if deadlines is not None:
        for key, wanted in DEADLINE_PLACEHOLDERS.items():
            text = _need_str(deadlines.get(key), f"knowledge.deadlines.{key}", problems)
            if text is None:
                continue
            try:
                used = _placeholders(text)
            except ValueError:
                continue  # reported by the generic check
            for name in sorted(wanted - used):
                problems.append(f"knowledge.deadlines.{key}: placeholder {{{name}}} missing")
            for name in sorted(used - wanted):
                problems.append(f"knowledge.deadlines.{key}: unknown placeholder {{{name}}}")


def _check_faq(faq: Any, problems: list[str]) -> None:
    if not isinstance(faq, list):
        problems.append("faq: missing or not a list")
        return
    if len(faq) < FAQ_MIN:
        problems.append(f"faq: {len(faq)} entries, need at least {FAQ_MIN}")
    seen: set[str] = set()
    primaries: Counter[str] = Counter()
    examples_per_topic: Counter[str] = Counter()
    for i, entry in enumerate(faq):
        path = f"faq.{i}"
        entry = _need_map(entry, path, problems)
        if entry is None:
            continue
        fid = entry.get("id")
        if not isinstance(fid, str) or not FAQ_ID.match(fid):
            problems.append(f"{path}.id: {fid!r} is not a snake_case id")
        elif fid in seen:
            problems.append(f"{path}.id: duplicate FAQ id {fid!r}")
        else:
            seen.add(fid)
            path = f"faq.{i}({fid})"
        topic = entry.get("topic")
        if topic not in FAQ_TOPICS:
            problems.append(f"{path}.topic: unknown topic {topic!r}")
        question = _need_str(entry.get("question"), f"{path}.question", problems, FAQ_QUESTION_MAX)
        if question and not question.rstrip().endswith(("？", "?")):
            problems.append(f"{path}.question: should end with ？")
        _need_str(entry.get("answer"), f"{path}.answer", problems, FAQ_ANSWER_MAX)
        keywords = entry.get("keywords")
        if not isinstance(keywords, list) or not keywords or not all(isinstance(w, str) and w for w in keywords):
            problems.append(f"{path}.keywords: need a non-empty list of words")
        examples = entry.get("examples", [])  # the FAQ classifier's training questions
        if not isinstance(examples, list) or not all(isinstance(w, str) and w.strip() for w in examples):
            problems.append(f"{path}.examples: need a list of questions")
        elif isinstance(topic, str):
            examples_per_topic[topic] += len(examples)
        primary = entry.get("primary")
        if not isinstance(primary, bool):
            problems.append(f"{path}.primary: must be true or false")
        elif primary and isinstance(topic, str):
            primaries[topic] += 1
    for topic in FAQ_TOPICS:
        if examples_per_topic[topic] < FAQ_EXAMPLES_MIN:
            problems.append(f"faq: topic {topic!r} has {examples_per_topic[topic]} examples, need {FAQ_EXAMPLES_MIN}")
        if topic != "other" and primaries[topic] != 1:
            problems.append(f"faq: topic {topic!r} has {primaries[topic]} primary entries, expected exactly 1")


def _check_care(care: Any, problems: list[str]) -> None:
    """The crisis classifier's training messages (dialogs/care.py): non-empty lists of strings."""
    care = _need_map(care, "care", problems)
    if care is None:
        return
    for key in CARE_LISTS:
        items = care.get(key)
        if not isinstance(items, list) or not items or not all(isinstance(t, str) and t.strip() for t in items):
            problems.append(f"care.{key}: need a non-empty list of messages")


def _check_legal(legal: Any, problems: list[str]) -> None:
    legal = _need_map(legal, "legal", problems)
    if legal is None:
        return
    for key, max_len in LEGAL_KEYS.items():
        _need_str(legal.get(key), f"legal.{key}", problems, max_len)
    note = legal.get("company_note")
    if isinstance(note, str):
        if "\n" in note.strip():
            problems.append("legal.company_note: must be one line")
        if COMPANY_NAME not in note:
            problems.append(f"legal.company_note: should name {COMPANY_NAME!r}")


def _check_console(console: Any, problems: list[str]) -> None:
    """``console.canned``: the operators' 定型文 (title 1–40 characters, text 1–2000)."""
    root = _need_map(console, "console", problems)
    items = root.get("canned") if root else None
    if not isinstance(items, list) or not items:
        problems.append("console.canned: must be a non-empty list")
        return
    for i, item in enumerate(items):
        node = _need_map(item, f"console.canned.{i}", problems)
        if node is not None:
            _need_str(node.get("title"), f"console.canned.{i}.title", problems, max_len=40)
            _need_str(node.get("text"), f"console.canned.{i}.text", problems, max_len=2000)


#: Content entries that state facts: each names its source, in a ``source:`` field
#: (mappings) or a ``# source:`` comment right above it (texts), so a reviewer can
#: verify it (issue 11). ``*`` is one level of keys or list items. Wording of
#: computed values (advice.by_when, advice.todo, advice.dates …) carries no source:
#: the rules and their sources are in dialogs/assessment.py.
SOURCED_ENTRIES = (
    "knowledge.glossary",
    "knowledge.explain.*",
    "knowledge.comparison",
    "knowledge.merits.*",
    "knowledge.cautions.*",
    "knowledge.conditions.*",
    "knowledge.steps.*",
    "knowledge.cases.*",
    "knowledge.stages.*",
    "knowledge.special_cases.*",
    "knowledge.deadlines.*",
    "knowledge.advice.closed_day",
    "knowledge.advice.situation.*",
    "knowledge.advice.doubts.kaisatsu_closed_day",
    "knowledge.advice.doubts.dates_old",
    "knowledge.advice.points.*",
    "faq.*",
)


#: labels.yaml section → the ids it must name (and the only ones it may name); None: any ids
LABEL_IDS: dict[str, Iterable[str] | None] = {
    "stage": ALL_STAGES,
    "notice": (*sorted(LATEST_NOTICE_VALUES), "court"),
    "special_case": SPECIAL_CASES,
    "urgency": URGENCIES,
    "message_kind": (*sorted(MEDIA_KINDS), "follow", "unfollow", "unknown"),
    "contact_time": CONTACT_TIMES,
    "status": None,
    "alert": None,
    "funnel_step": None,  # bot/insights/funnel.py STEPS (tests/test_vocabulary.py)
    "channel": None,
    "lender": None,
    "divorce": None,
    "feedback": None,
}


def _check_labels(node: Any, problems: list[str]) -> None:
    """Every id of :data:`LABEL_IDS` has a short name, and no name is for an unknown id."""
    sections = _need_map(node, "labels", problems)
    if sections is None:
        return
    for section, ids in LABEL_IDS.items():
        names = _need_map(sections.get(section), f"labels.{section}", problems)
        if names is None:
            continue
        for key, name in names.items():
            _need_str(name, f"labels.{section}.{key}", problems, 40)
        if ids is not None:
            _unknown(names, f"labels.{section}", ids, "unknown id", problems)
            problems.extend(f"labels.{section}.{key}: missing" for key in ids if key not in names)


def _expand(content: Content, pattern: str) -> list[str]:
    head, star, _ = pattern.partition(".*")
    if not star:
        return [head] if content.has(head) else []
    node = content.get(head, None)
    if isinstance(node, dict):
        return [f"{head}.{k}" for k in node]
    if isinstance(node, list):
        return [f"{head}.{i}" for i in range(len(node))]
    return []


def _check_sources(content: Content, problems: list[str]) -> None:
    for pattern in SOURCED_ENTRIES:
        for key in _expand(content, pattern):
            node = content.get(key, None)  # a non-text key (YAML 「1:」) is not found by its dotted name
            field_src = node.get("source") if isinstance(node, dict) else None
            if isinstance(field_src, str) and field_src.strip():
                continue
            if key in content.comment_sources:
                continue
            problems.append(f"{key}: states a fact but names no source (add `source:` or a `# source:` comment)")


def check_content(content: Content, required_keys: Iterable[str] = ()) -> list[str]:
    """Every problem found in ``content`` as a readable line; ``[]`` means fine.

    * structure of ``knowledge``, ``faq`` and ``legal`` (counts, ids, templates), and of
      ``care`` when present (the crisis classifier's example lists);
    * LINE limits anywhere (also in ``dialog.yaml`` and articles): each mapping
      with a ``label`` is a button (label 1–20 characters, postback ``data`` ≤ 300),
      ``buttons``/``quick_replies`` lists ≤ 13, strings ≤ 5000 UTF-16 units,
      ``alt_text`` ≤ 1500, no leftover ``TODO``, valid ``str.format`` braces;
    * every entry in :data:`SOURCED_ENTRIES` (the ones that state facts) names its
      source: a ``source:`` field or a ``# source:`` comment right above it;
    * each dotted key in ``required_keys`` exists (the dialogs pass theirs).
    """
    problems: list[str] = []
    for stem in ("knowledge", "faq", "legal"):
        if stem not in content.data:
            problems.append(f"{stem}: content file {stem}.yaml is missing")
    checks = {"knowledge": _check_knowledge, "faq": _check_faq, "legal": _check_legal, "care": _check_care,
              "console": _check_console, "labels": _check_labels}
    for stem, check in checks.items():
        if stem in content.data:
            check(content.data[stem], problems)
    _check_sources(content, problems)
    _check_line_limits(content, problems)
    for key in required_keys:
        if not content.has(key):
            problems.append(f"{key}: required key is missing")
    return problems
