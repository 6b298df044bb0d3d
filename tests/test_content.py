"""Tests for bot/content.py and the real content in content/.

Like datasette's documentation tests: the real content must pass ``check_content``,
and each kind of problem is shown to be caught on a small broken copy.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from bot.content import (
    FAQ_TOPICS,
    MISSING,
    SPECIAL_CASES,
    STAGE_IDS,
    Content,
    ContentError,
    check_content,
    load_content,
    utf16_len,
)

ROOT = Path(__file__).resolve().parents[1]
CONTENT_DIR = ROOT / "content"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
OWN_FILES = ("knowledge", "faq", "legal")


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONTENT_DIR)


@functools.lru_cache(maxsize=None)
def _real_cached(stem: str) -> Any:
    return yaml.load((CONTENT_DIR / f"{stem}.yaml").read_text(encoding="utf-8"), Loader=_Loader)


def _real(stem: str) -> Any:
    return copy.deepcopy(_real_cached(stem))


@pytest.fixture
def broken(tmp_path: Path) -> Callable[..., list[str]]:
    """Write a copy of our three files (after ``mutate``) plus ``extra`` files, check it."""

    def make(
        mutate: Callable[[dict[str, Any]], None] | None = None,
        *,
        extra: dict[str, Any] | None = None,
        required_keys: tuple[str, ...] = (),
    ) -> list[str]:
        data = {stem: copy.deepcopy(_real(stem)) for stem in OWN_FILES}
        if mutate:
            mutate(data)
        for stem, value in {**data, **(extra or {})}.items():
            if value is MISSING:
                continue
            (tmp_path / f"{stem}.yaml").write_text(
                yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
        c = load_content(tmp_path)
        # yaml.dump drops comments: keep the real files' `# source:` comments
        c.comment_sources = {**load_content(CONTENT_DIR).comment_sources, **c.comment_sources}
        return check_content(c, required_keys)

    return make


def _has(problems: list[str], *parts: str) -> bool:
    return any(all(p in line for p in parts) for line in problems)


# ---------------------------------------------------------------------------
# The real content
# ---------------------------------------------------------------------------


def test_real_content_passes(content: Content) -> None:
    # dialog.yaml (someone else's) is checked generically when present; fine if absent.
    assert check_content(content) == []


def test_unmodified_copy_passes(broken) -> None:
    assert broken() == []


def test_faq_primary_per_topic(content: Content) -> None:
    faq = content.get("faq")
    assert len(faq) >= 24
    for topic in FAQ_TOPICS:
        entries = [f for f in faq if f["topic"] == topic]
        assert len(entries) >= 2, topic
        if topic != "other":
            assert sum(f["primary"] for f in entries) == 1, topic


def test_deadline_wording_is_the_corrected_one(content: Content) -> None:
    """Legally the day before 開札; 2 days before is only a plan; ideally before bidding."""
    legal = content.text("knowledge.deadlines.legal_last_day", legal_last_day="12月10日（木）")
    assert "12月10日（木）" in legal and "前日" in legal
    assert "取り下げの最終期限（一般的な考え方）" in legal and "裁判所・債権者に確認" in legal  # issue 11
    assert "営業日" in content.text("knowledge.deadlines.plan_by", plan_by="12月9日（水）")  # issue 11
    assert "入札期間" in content.text("knowledge.deadlines.ideal_by", ideal_by="11月27日（金）")
    est = content.text("knowledge.deadlines.estimate", estimate_from="3月", estimate_to="5月")
    assert "目安" in est
    deadline_faq = next(f for f in content.get("faq") if f["id"] == "timeline_deadline")
    assert "前日" in deadline_faq["answer"] and "全員" in deadline_faq["answer"]
    # "2 days before" is only ever a planning margin, never the legal limit.
    for where, text in _plain_texts(content):
        for sentence in _sentences(text):
            if "2日前" in sentence:
                assert any(w in sentence for w in ("実際", "余裕", "計画")), f"{where}: {sentence}"


# ---------------------------------------------------------------------------
# Content API
# ---------------------------------------------------------------------------


def test_get_dotted_and_list_index(content: Content) -> None:
    assert (
        content.get("knowledge.stages.dunning.title")
        == content.data["knowledge"]["stages"]["dunning"]["title"]
    )
    assert content.get("knowledge.steps.0.title") == content.data["knowledge"]["steps"][0]["title"]
    assert content.get("knowledge.steps.-1.title") == content.data["knowledge"]["steps"][8]["title"]
    assert content.get("faq.0.id") == content.data["faq"][0]["id"]


def test_get_missing(content: Content) -> None:
    with pytest.raises(KeyError):
        content.get("knowledge.stages.nope.title")
    with pytest.raises(KeyError):
        content.get("knowledge.steps.99")
    with pytest.raises(KeyError):
        content.get("knowledge.steps.first")
    with pytest.raises(KeyError):
        content.get("knowledge.stages.dunning.title.deeper")
    assert content.get("knowledge.nope", None) is None
    assert content.get("knowledge.nope", "x") == "x"


def test_has(content: Content) -> None:
    assert content.has("legal.disclaimer")
    assert content.has("knowledge.merits.5")
    assert not content.has("knowledge.merits.6")
    assert not content.has("")
    assert "legal.company_note" in content


def test_text_formats_and_raises() -> None:
    c = Content({"a": {"t": "あと{days}日です。", "plain": "こんにちは。", "n": 3, "l": ["x"]}})
    assert c.text("a.t", days="5") == "あと5日です。"
    assert c.text("a.plain") == "こんにちは。"
    assert c.text("a.l.0") == "x"
    with pytest.raises(KeyError):
        c.text("a.missing")
    with pytest.raises(KeyError):
        c.text("a.t")  # placeholder without a value
    with pytest.raises(TypeError):
        c.text("a.n")


def test_load_reads_yaml_and_articles(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text("greeting: こんにちは\n", encoding="utf-8")
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "flow.md").write_text(
        "---\ntitle: 流れ\ntags: [基本]\n---\n# 流れ\n本文です。\n", encoding="utf-8"
    )
    (tmp_path / "README.md").write_text("# not an article\n", encoding="utf-8")
    c = load_content(tmp_path)
    assert c.get("one.greeting") == "こんにちは"
    assert c.get("articles.flow.meta.title") == "流れ"
    assert c.get("articles.flow.body") == "# 流れ\n本文です。"
    assert not c.has("articles.README")


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ContentError):
        load_content(tmp_path / "nope")
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(ContentError):
        load_content(tmp_path)


def test_utf16_len() -> None:
    assert utf16_len("あいう") == 3
    assert utf16_len("😀") == 2


# ---------------------------------------------------------------------------
# Each kind of problem, on a small broken copy
# ---------------------------------------------------------------------------


def test_long_label(broken) -> None:
    dialog = {"start": {"text": "ようこそ。", "buttons": [{"label": "あ" * 21, "data": "cmd:start"}]}}
    problems = broken(extra={"dialog": dialog})
    assert _has(problems, "dialog.start.buttons.0.label", "21")


def test_label_with_emoji_counts_two(broken) -> None:
    dialog = {"q": {"buttons": [{"label": "あ" * 19 + "😀", "data": "x:y"}]}}
    assert _has(broken(extra={"dialog": dialog}), "dialog.q.buttons.0.label")


def test_empty_label(broken) -> None:
    dialog = {"q": {"buttons": [{"label": "", "data": "x:y"}], "nested": [{"label": None}]}}
    problems = broken(extra={"dialog": dialog})
    assert _has(problems, "dialog.q.buttons.0.label", "empty")
    assert _has(problems, "dialog.q.nested.0.label", "empty")


def test_fourteen_buttons(broken) -> None:
    buttons = [{"label": f"ボタン{i}", "data": f"b:{i}"} for i in range(14)]
    problems = broken(extra={"dialog": {"menu": {"buttons": buttons}}})
    assert _has(problems, "dialog.menu.buttons", "14 buttons")
    ok = broken(extra={"dialog": {"menu": {"buttons": buttons[:13]}}})
    assert ok == []


def test_buttons_as_label_to_trigger_mapping(broken) -> None:
    mapping = {f"はい{i}": "yes" for i in range(14)}
    mapping["とても長いラベルでLINEの二十文字を超えてしまう"] = "long"
    problems = broken(extra={"dialog": {"ask": {"buttons": mapping}}})
    assert _has(problems, "dialog.ask.buttons", "15 buttons")
    assert _has(problems, "dialog.ask.buttons.とても長い", "label")


def test_long_postback_data(broken) -> None:
    dialog = {"q": {"buttons": [{"label": "はい", "data": "x:" + "a" * 299}]}}
    assert _has(broken(extra={"dialog": dialog}), "dialog.q.buttons.0.data", "301")


def test_missing_stage(broken) -> None:
    problems = broken(lambda d: d["knowledge"]["stages"].pop("bid_notice"))
    assert _has(problems, "knowledge.stages.bid_notice", "missing")


def test_unknown_stage_and_long_stage_title(broken) -> None:
    def mutate(d):
        d["knowledge"]["stages"]["later"] = d["knowledge"]["stages"]["none"]
        d["knowledge"]["stages"]["dunning"]["title"] = "あ" * 21

    problems = broken(mutate)
    assert _has(problems, "knowledge.stages.later", "unknown stage")
    assert _has(problems, "knowledge.stages.dunning.title", "21")


def test_missing_placeholder(broken) -> None:
    problems = broken(lambda d: d["knowledge"]["deadlines"].update(plan_by="2日前までに決済します。"))
    assert _has(problems, "knowledge.deadlines.plan_by", "{plan_by}", "missing")


def test_unknown_placeholder_and_bad_braces(broken) -> None:
    def mutate(d):
        d["knowledge"]["deadlines"]["days_left"] = "あと{days}日、{day}です。"
        d["legal"]["disclaimer"] = "一般的な情報です{。"

    problems = broken(mutate)
    assert _has(problems, "knowledge.deadlines.days_left", "{day}", "unknown")
    assert _has(problems, "legal.disclaimer", "format")


def test_text_over_5000_utf16_units(broken) -> None:
    too_long = "あ" * 4999 + "😀"  # 5000 code points, 5001 UTF-16 units
    assert len(too_long) == 5000
    problems = broken(lambda d: d["knowledge"]["glossary"].update(長い説明=too_long))
    assert _has(problems, "knowledge.glossary.長い説明", "5001")
    just_fits = "あ" * 4998 + "😀"
    assert broken(lambda d: d["knowledge"]["glossary"].update(長い説明=just_fits)) == []


def test_duplicate_faq_id(broken) -> None:
    def mutate(d):
        dup = copy.deepcopy(d["faq"][1])
        dup["primary"] = False
        d["faq"].append(dup)

    problems = broken(mutate)
    assert _has(problems, "duplicate FAQ id", repr(_real("faq")[1]["id"]))


def test_faq_primaries(broken) -> None:
    def mutate(d):
        for f in d["faq"]:
            if f["topic"] == "divorce":
                f["primary"] = False
            if f["topic"] == "timeline":
                f["primary"] = True

    problems = broken(mutate)
    assert _has(problems, "'divorce'", "0 primary")
    assert _has(problems, "'timeline'", "primary")


def test_faq_fields(broken) -> None:
    def mutate(d):
        d["faq"][0].update(id="Bad-Id", topic="weather", question="あ" * 61, answer="い" * 501, keywords=[])
        del d["faq"][1]["primary"]
        d["faq"][2]["question"] = "質問です"

    problems = broken(mutate)
    for part in (
        "snake_case",
        "unknown topic",
        "question: 61",
        "answer: 501",
        "keywords",
        "primary",
        "end with ？",
    ):
        assert _has(problems, part), part


def test_too_few_faq(broken) -> None:
    assert _has(broken(lambda d: d.update(faq=d["faq"][:19])), "need at least 20")


def test_list_counts(broken) -> None:
    def mutate(d):
        d["knowledge"]["steps"].pop()
        d["knowledge"]["merits"].append({"title": "七つ目", "text": "多すぎます。"})
        d["knowledge"]["cases"][0].pop("text")

    problems = broken(mutate)
    assert _has(problems, "knowledge.steps", "8 items, expected 9")
    assert _has(problems, "knowledge.merits", "7 items, expected 6")
    assert _has(problems, "knowledge.cases.0.text", "missing")


def test_comparison_cells_and_alt_text(broken) -> None:
    def mutate(d):
        d["knowledge"]["comparison"]["rows"][0][1] = "あ" * 41
        d["knowledge"]["comparison"]["alt_text"] = "い" * 1501
        d["knowledge"]["comparison"]["rows"].pop()  # 手続きの主導

    problems = broken(mutate)
    assert _has(problems, "knowledge.comparison.rows.0.1", "41")
    assert _has(problems, "knowledge.comparison.alt_text", "1501")
    assert _has(problems, "knowledge.comparison.rows", "手続きの主導")


def test_alt_text_anywhere(broken) -> None:
    dialog = {"card": {"alt_text": "う" * 1501}}
    assert _has(broken(extra={"dialog": dialog}), "dialog.card.alt_text", "1501")


def test_todo_left(broken) -> None:
    problems = broken(lambda d: d["knowledge"]["special_cases"].update(credit_record="TODO: 書く"))
    assert _has(problems, "knowledge.special_cases.credit_record", "TODO")


def test_glossary_and_special_cases_keys(broken) -> None:
    def mutate(d):
        d["knowledge"]["glossary"].pop("開札")
        d["knowledge"]["special_cases"].pop("leaseback_wish")
        d["knowledge"]["special_cases"]["surprise"] = "あります。"
        d["knowledge"]["extra"] = {}

    problems = broken(mutate)
    assert _has(problems, "knowledge.glossary.開札", "missing")
    assert _has(problems, "knowledge.special_cases.leaseback_wish", "missing")
    assert _has(problems, "knowledge.special_cases.surprise", "unexpected")
    assert _has(problems, "knowledge.extra", "unexpected")


def test_legal_limits(broken) -> None:
    def mutate(d):
        d["legal"]["disclaimer"] = "あ" * 301
        d["legal"]["company_note"] = "運営：どこか\n二行目"
        d["legal"].pop("contact_consent")

    problems = broken(mutate)
    assert _has(problems, "legal.disclaimer", "301")
    assert _has(problems, "legal.company_note", "one line")
    assert _has(problems, "legal.company_note", "ninbai相談窓口")
    assert _has(problems, "legal.contact_consent", "missing")


def test_missing_file(broken) -> None:
    assert _has(broken(lambda d: d.update(legal=MISSING)), "legal.yaml is missing")


def test_required_keys(broken) -> None:
    problems = broken(required_keys=("knowledge.stages.dunning.title", "dialog.start.text"))
    assert problems == ["dialog.start.text: required key is missing"]
    assert (
        broken(extra={"dialog": {"start": {"text": "ようこそ。"}}}, required_keys=("dialog.start.text",))
        == []
    )


# ---------------------------------------------------------------------------
# Plain language
# ---------------------------------------------------------------------------

POLITE_END = re.compile(
    r"(です|ます|ください|ません|でしょう|ましょう|ました|でした|ですか|ますか|でしょうか|ませんか)$"
)
TRAILING = "）)」』 　"
SENTENCE_MAX = 80


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[。！？])|\n", text)
    return [p.strip() for p in parts if p.strip()]


def _plain_texts(content: Content) -> list[tuple[str, str]]:
    k = content.get("knowledge")
    out = [(f"faq.{f['id']}.answer", f["answer"]) for f in content.get("faq")]
    for sid, st in k["stages"].items():
        out.append((f"stages.{sid}.summary", st["summary"]))
        out.append((f"stages.{sid}.next_step", st["next_step"]))
    out += [(f"special_cases.{key}", text) for key, text in k["special_cases"].items()]
    for section in ("merits", "cautions", "conditions", "steps", "cases"):
        out += [(f"{section}.{i}", item["text"]) for i, item in enumerate(k[section])]
    out += [(f"explain.{key}", item["text"]) for key, item in k["explain"].items()]
    out += [(f"glossary.{term}", text) for term, text in k["glossary"].items()]
    out += [
        ("legal.disclaimer", content.get("legal.disclaimer")),
        ("legal.contact_consent", content.get("legal.contact_consent")),
        ("legal.company_note", content.get("legal.company_note")),
    ]
    sample = {
        "legal_last_day": "12月10日（木）",
        "plan_by": "12月9日（水）",
        "ideal_by": "11月27日（金）",
        "days": "30",
        "estimate_from": "3月1日（日）",
        "estimate_to": "5月29日（金）",
    }
    out += [(f"deadlines.{key}", text.format(**sample)) for key, text in k["deadlines"].items()]
    return out


def test_plain_language_desu_masu(content: Content) -> None:
    bad = []
    for where, text in _plain_texts(content):
        for sentence in _sentences(text):
            if not POLITE_END.search(sentence.rstrip("。！？").rstrip(TRAILING)):
                bad.append(f"{where}: {sentence}")
    assert bad == []


def test_plain_language_short_sentences(content: Content) -> None:
    long = [
        f"{where}: {s}"
        for where, text in _plain_texts(content)
        for s in _sentences(text)
        if len(s) > SENTENCE_MAX
    ]
    assert long == []


def test_stage_summaries_are_2_to_4_sentences(content: Content) -> None:
    for sid in STAGE_IDS:
        n = len(_sentences(content.get(f"knowledge.stages.{sid}.summary")))
        assert 2 <= n <= 4, sid
        assert len(_sentences(content.get(f"knowledge.stages.{sid}.next_step"))) == 1, sid


def test_special_cases_are_1_to_3_sentences(content: Content) -> None:
    for key in SPECIAL_CASES:
        assert 1 <= len(_sentences(content.get(f"knowledge.special_cases.{key}"))) <= 3, key


# Jargon a homeowner may not know: in each FAQ answer, its first use carries an explanation in （）.
JARGON = (
    "債権者",
    "期限の利益喪失",
    "代位弁済",
    "信用情報",
    "連帯保証人",
    "連帯債務者",
    "差押",
    "執行官",
    "開札",
    "決済",
    "リースバック",
    "財産分与",
    "共有名義",
    "競売開始決定",
    "遅延損害金",
    "債務整理",
    "自己破産",
    "個人再生",
    "住宅金融支援機構",
    "返済予定表",
    "登記簿",
    "抵当権",
    "残債",
    "管理組合",
    "家賃保証会社",
    "評価人",
    "分納",
    "返済条件の変更",
)


def test_faq_explains_jargon_on_first_use(content: Content) -> None:
    bad = []
    for f in content.get("faq"):
        answer = f["answer"]
        for term in JARGON:
            i = answer.find(term)
            if i < 0:
                continue
            after, before = answer[i + len(term) :], answer[:i]
            explained = (
                after.startswith("（")  # 代位弁済（保証会社が…）
                or (before.endswith("（") and after.startswith("）"))  # 返しきれなかった分（残債）
                or after.startswith("」")  # a quoted document title, explained in the sentence
            )
            if not explained:
                bad.append(f"{f['id']}: {term}")
    assert bad == []


# ---------------------------------------------------------------------------
# Sources (issue 11): every entry that states a fact names its source
# ---------------------------------------------------------------------------


def test_a_fact_without_a_source_field_is_caught(broken) -> None:
    def drop(d):
        del d["knowledge"]["advice"]["points"]["credit"]["source"]
        del d["knowledge"]["stages"]["dunning"]["source"]
        d["knowledge"]["merits"][0]["source"] = " "

    problems = broken(drop)
    assert _has(problems, "knowledge.advice.points.credit", "no source")
    assert not _has(problems, "faq", "no source")
    assert _has(problems, "knowledge.stages.dunning", "no source")
    assert _has(problems, "knowledge.merits.0", "no source")
    assert len([p for p in problems if "no source" in p]) == 3
    assert _has(broken(lambda d: d["faq"][0].pop("source")), "faq.0", "no source")


def test_a_source_comment_counts_only_right_above_its_entry(tmp_path: Path) -> None:
    (tmp_path / "knowledge.yaml").write_text(
        "special_cases:\n"
        "  # source: 民事執行法76条\n"
        "  too_late_after_kaisatsu: 開札のあとは止められません。\n"
        "  very_little_time: 時間がありません。  # source: domain.md 'Until when'\n"
        "  credit_record: 記録が残ります。\n"
        "  # a comment that names nothing\n"
        "  leaseback_wish: 家賃は高くなりがちです。\n",
        encoding="utf-8",
    )
    c = load_content(tmp_path)
    assert c.comment_sources == {
        "knowledge.special_cases.too_late_after_kaisatsu": "民事執行法76条",
        "knowledge.special_cases.very_little_time": "domain.md 'Until when'",
    }
    missing = sorted(p.split(":")[0] for p in check_content(c) if "no source" in p)
    assert missing == ["knowledge.special_cases.credit_record", "knowledge.special_cases.leaseback_wish"]


def test_every_fact_entry_of_the_real_content_names_a_source(content: Content) -> None:
    from bot.content import SOURCED_ENTRIES, _expand

    keys = [k for p in SOURCED_ENTRIES for k in _expand(content, p)]
    assert len(keys) >= 80  # the check really walks the entries
    for k in keys:
        node = content.get(k)
        src = (node.get("source") if isinstance(node, dict) else None) or content.comment_sources.get(k)
        assert isinstance(src, str) and len(src) >= 8, k
