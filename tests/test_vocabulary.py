"""One vocabulary (issue 14): ids defined once in dialogs/, their Japanese names once in content/labels.yaml."""
from __future__ import annotations

import copy
import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from bot import content as content_module
from bot.console import service
from bot.content import check_content, labels, load_content
from bot.insights import funnel, transcripts
from dialogs import advice, assessment
from dialogs.understanding import faq, fields
from dialogs.base import JST, format_date
from dialogs.diagnosis import machine, vocabulary

ROOT = Path(__file__).resolve().parents[1]


def test_every_screen_uses_the_same_names_from_content():
    names = labels()
    assert service.STAGE_LABELS is transcripts.STAGE_LABELS is names["stage"]
    assert service.STATUS_LABELS is transcripts.STATUS_LABELS is names["status"]
    assert service.URGENCY_LABELS is transcripts.URGENCY_LABELS is names["urgency"]
    assert funnel.FEEDBACK_LABELS is names["feedback"]
    assert funnel.STEP_LABELS is names["funnel_step"] and list(names["funnel_step"]) == list(funnel.STEPS)
    assert {k: v for k, v in funnel.VALUE_LABELS["answer:notice"].items() if k != "unknown"} \
        == {k: v for k, v in names["notice"].items() if k != "unknown"}
    assert names["stage"]["dunning"] == "督促状・催告書" and names["urgency"]["hot"] == "緊急"


def test_the_ids_are_imported_not_copied():
    assert transcripts.STAGES is assessment.ALL_STAGES
    assert transcripts.URGENCIES is assessment.URGENCIES
    assert transcripts.DIALOG_STEPS is machine.STATE_NAMES
    assert funnel.QUESTIONS is vocabulary.QUESTIONS
    assert content_module.STAGE_IDS is assessment.ALL_STAGES
    assert content_module.SPECIAL_CASES is assessment.SPECIAL_CASES
    assert content_module.FAQ_TOPICS == (*vocabulary.FAQ_TOPICS, "other")
    # FAQ topics: the ids dialogs/understanding/faq.py reads in free text, and only those
    assert vocabulary.FAQ_TOPICS == tuple(t for t, _ in faq.FAQ_TOPICS)
    assert set(fields.NOTICE_TERMS) - fields.NOT_LETTERS == set(assessment.NOTICES)
    assert advice.format_date is vocabulary.format_date is format_date


def test_no_python_module_spells_out_the_vocabulary_again():
    """A stage or FAQ topic id list, a weekday string or a time zone written a second time."""
    stage_list = re.compile(r'"dunning",\s*"acceleration",\s*"subrogation"')
    faq_list = re.compile(r'"moving_costs",\s*"credit_blacklist"')
    files = [p for p in (*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("dialogs").rglob("*.py"))]
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        if stage_list.search(text) and rel != "dialogs/assessment.py":
            found.append(f"{rel}: stage ids")
        if faq_list.search(text):
            found.append(f"{rel}: FAQ topic ids")
        if '"月火水木金土日"' in text and rel != "dialogs/base.py":
            found.append(f"{rel}: weekdays")
        if re.search(r'ZoneInfo\("Asia/Tokyo"\)|timedelta\(hours=9\)', text) and rel != "dialogs/base.py":
            found.append(f"{rel}: time zone")
        if re.search(r'"auction_start":\s*"競売開始決定"', text):
            found.append(f"{rel}: stage names in Python")
    assert found == []


def test_format_date_in_japan():
    today = dt.datetime(2026, 12, 3, 23, 0, tzinfo=JST).date()
    assert format_date(dt.date(2026, 12, 10), today) == "12月10日（木）"
    assert format_date(dt.date(2027, 1, 4), today) == "2027年1月4日（月）"


def test_the_content_check_wants_a_name_for_every_id_and_no_other():
    content = load_content(ROOT / "content")
    assert check_content(content) == []
    broken = copy.deepcopy(content)
    del broken.data["labels"]["stage"]["bid_notice"]
    broken.data["labels"]["special_case"]["made_up_case"] = "架空"
    broken.data["labels"]["urgency"]["hot"] = ""
    problems = check_content(broken)
    assert "labels.stage.bid_notice: missing" in problems
    assert "labels.special_case.made_up_case: unknown id" in problems
    assert any(p.startswith("labels.urgency.hot") for p in problems)


@pytest.mark.parametrize("section", sorted(content_module.LABEL_IDS))
def test_every_section_of_labels_yaml_is_there_and_named_in_japanese(section):
    names = labels()[section]
    assert names and all(isinstance(v, str) and v for v in names.values())
    if section != "channel":
        assert all(re.search(r"[ぁ-んァ-ヶ一-龥]", v) for v in names.values()), names


def test_the_command_line_content_check_passes():
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "content", "check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
