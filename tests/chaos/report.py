"""The chaos suite's figures: one row per run, printed at the end of the test session
(`pytest_terminal_summary` in this package's conftest)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figures:
    fault: str
    sent: int = 0  # commands the clients began
    acked: int = 0  # acknowledged (each checked in the log)
    events: int = 0  # the log's length after the run
    catch_up: float | None = None  # seconds from the fault's end to views at the head
    resumes: int = 0  # socket reconnects, each with ?after=N
    differences: int = -1  # `swarmdesk verify`: views vs replay
    sigterm: float | None = None  # seconds from SIGTERM to exit 0
    answers: dict[str, int] = field(default_factory=dict)  # per attempt: status or error
    notes: list[str] = field(default_factory=list)


RUNS: list[Figures] = []


def lines() -> list[str]:
    rows = [
        f"{'fault':<28} {'acked':>6} {'sent':>6} {'events':>7} {'catch-up s':>10} "
        f"{'resumes':>7} {'diffs':>5} {'SIGTERM s':>9}  answers"
    ]
    for f in RUNS:
        catch = f"{f.catch_up:.2f}" if f.catch_up is not None else "-"
        term = f"{f.sigterm:.2f}" if f.sigterm is not None else "-"
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(f.answers.items()))
        answers += "".join(f"; {note}" for note in f.notes)
        rows.append(
            f"{f.fault:<28} {f.acked:>6} {f.sent:>6} {f.events:>7} {catch:>10} "
            f"{f.resumes:>7} {f.differences:>5} {term:>9}  {answers}"
        )
    return rows
