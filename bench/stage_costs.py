"""CPU per event of each in-process stage alone (``line_bench.stage_costs``, against the fake
LINE server in its own process) and of ``DiagnosisDialog.step``, without the load phases.

    .venv/bin/python bench/stage_costs.py [--profile FILE]   # FILE: cProfile stats, thread time

Run it in two checkouts one after the other to compare before / after (README "Performance").
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import line_bench as lb  # noqa: E402


def dialog_step_ms(rounds: int = 10) -> tuple[float, int]:
    """Thread CPU per ``DiagnosisDialog.step`` over the bench's scripts, after the warm-up."""
    from bot.content import load_content
    from dialogs.base import Session
    from dialogs.diagnosis import DiagnosisDialog
    from dialogs.understanding import warm_up

    warm_up(background=False)
    dialog = DiagnosisDialog(load_content(ROOT / "content"))
    today = dt.date.fromisoformat(lb.TODAY)
    cpu, n = 0.0, 0
    for _ in range(rounds):
        for script in lb.DIAGNOSIS + lb.TEXT:
            session = Session()
            for kind, value in script:
                inp = lb.dialog_input(kind, value, today)
                t = time.thread_time()
                dialog.step(session, inp)
                cpu += time.thread_time() - t
                n += 1
    return 1000 * cpu / n, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", help="write cProfile stats (thread time) of the stages here")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    step_ms, steps = dialog_step_ms()
    print(f"DiagnosisDialog.step: {step_ms:.3f} ms CPU per step over {steps} steps", flush=True)
    fake = lb.FakeLineProcess(lb.free_port(), validate=False, log=Path(tempfile.mkdtemp()) / "fakeline.log").start()
    try:
        profile = cProfile.Profile(time.thread_time) if args.profile else None
        if profile:
            profile.enable()
        r = lb.stage_costs(fake, Path(tempfile.mkdtemp(prefix="ninbai-stages-")))
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
    finally:
        fake.stop()
    print(f"stages ({r['events']} diagnosis events, {r['delivered']} delivered): webhook {r['webhook_ms']}"
          f" + events {r['events_ms']} + send {r['send_ms']} = {r['ninbai_total_ms']} ms;"
          f" echo bot's callback {r['echo_ms']} ms ({r['ninbai_total_ms'] / r['echo_ms']:.2f}x)")


if __name__ == "__main__":
    main()
