"""docs/dialog.mmd is generated from the dialog's own STATES/TRANSITIONS and must be current."""
from __future__ import annotations

from pathlib import Path

from dialogs.diagnosis import STATE_NAMES, TRANSITIONS
from dialogs.diagram import OUTPUT, README, readme_block, render

MMD = Path(__file__).resolve().parent.parent / "docs" / "dialog.mmd"


def test_diagram_is_current() -> None:
    assert OUTPUT == MMD
    assert MMD.exists(), "run: python -m dialogs.diagram"
    assert MMD.read_text(encoding="utf-8") == render(), "docs/dialog.mmd is stale: run python -m dialogs.diagram"


def test_diagram_shows_every_state_and_trigger() -> None:
    text = render()
    assert text.lstrip("-\n").count("stateDiagram-v2") == 1
    for name in STATE_NAMES:
        assert f'state "{name}" as {name}' in text
    for t in TRANSITIONS:
        assert t["trigger"] in text


def test_render_is_stable() -> None:
    assert render() == render()


def test_readme_shows_the_current_diagram() -> None:
    assert readme_block() in README.read_text(encoding="utf-8"), "run: python -m dialogs.diagram"


def test_status_diagram_is_current_and_complete() -> None:
    from dialogs import conversation
    from dialogs.diagram import STATUS_OUTPUT, render_status, status_readme_block

    text = render_status()
    assert STATUS_OUTPUT.read_text(encoding="utf-8") == text, "docs/status.mmd is stale: run python -m dialogs.diagram"
    assert status_readme_block() in README.read_text(encoding="utf-8"), "run: python -m dialogs.diagram"
    for name in conversation.STATUSES:
        assert f'state "{name}" as {name}' in text
    for t in conversation.TRANSITIONS:
        if t["dest"] is not None:
            assert t["trigger"] in text
