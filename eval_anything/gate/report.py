"""The gate's report in the forms CI wants: a terminal table, JSON, JUnit XML, Markdown."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from eval_anything.gate.verdict import GateReport, TaskComparison

VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE")
HEADERS = ("task", "verdict", "n", "baseline", "candidate", "diff", "CI", "p", "p (Holm)", "method",
           "judge agreement")


def _num(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return f"{x:.{digits}f}"


def _p(x: float) -> str:
    return f"{x:.2e}" if 0 < x < 1e-3 else f"{x:.4f}"


def row_cells(c: TaskComparison) -> list[str]:
    return [
        c.task,
        c.verdict,
        str(c.n_pairs),
        _num(c.baseline_mean),
        _num(c.candidate_mean),
        f"{c.diff:+.4f}" if not math.isnan(c.diff) else "-",
        f"[{_num(c.ci_low)}, {_num(c.ci_high)}]",
        _p(c.p_value),
        _p(c.p_holm),
        c.method,
        _num(c.judge_agreement, 3),
    ]


def summary_line(report: GateReport) -> str:
    counts = {v: sum(1 for t in report.tasks if t.verdict == v) for v in VERDICTS}
    parts = ", ".join(f"{n} {v.lower()}" for v, n in counts.items() if n)
    return (
        f"gate {report.verdict}: candidate {report.candidate_run_id} vs baseline "
        f"{report.baseline_run_id} ({parts}; margin {report.margin}, alpha {report.alpha})"
    )


def to_table(report: GateReport) -> str:
    """A plain-text table (monospace), then warnings and the overall verdict."""
    rows = [list(HEADERS)] + [row_cells(c) for c in report.tasks]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for c in report.tasks:
        for note in c.notes:
            lines.append(f"note: {c.task}: {note}")
    lines += [f"warning: {w}" for w in report.warnings]
    lines.append(summary_line(report))
    return "\n".join(lines)


def to_json(report: GateReport) -> str:
    return report.model_dump_json(indent=2)


def to_junit(report: GateReport) -> str:
    """One testcase per task: FAIL is a failure, INCONCLUSIVE a skip (visible, not red)."""
    suite = ET.Element(
        "testsuite",
        name="eval-anything gate",
        tests=str(len(report.tasks)),
        failures=str(sum(t.verdict == "FAIL" for t in report.tasks)),
        skipped=str(sum(t.verdict == "INCONCLUSIVE" for t in report.tasks)),
        errors="0",
    )
    props = ET.SubElement(suite, "properties")
    for key in ("baseline_run_id", "candidate_run_id", "margin", "alpha"):
        ET.SubElement(props, "property", name=key, value=str(getattr(report, key)))
    for c in report.tasks:
        case = ET.SubElement(suite, "testcase", classname="eval_anything.gate.verdict", name=c.task)
        detail = (
            f"diff {c.diff:+.4f} CI [{_num(c.ci_low)}, {_num(c.ci_high)}] over {c.n_pairs} "
            f"pairs; p {_p(c.p_value)}, Holm {_p(c.p_holm)} ({c.method})"
        )
        if c.verdict == "FAIL":
            ET.SubElement(
                case,
                "failure",
                message=f"regression beyond margin {report.margin}",
                type="regression",
            ).text = detail
        elif c.verdict == "INCONCLUSIVE":
            ET.SubElement(case, "skipped", message=f"inconclusive: {detail}")
        ET.SubElement(case, "system-out").text = detail
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def to_markdown(report: GateReport) -> str:
    """A GitHub-flavoured summary (for ``$GITHUB_STEP_SUMMARY`` or a PR comment)."""
    lines = [
        f"### Eval gate: **{report.verdict}**",
        "",
        f"Candidate `{report.candidate_run_id}` vs baseline `{report.baseline_run_id}`; "
        f"margin {report.margin}, alpha {report.alpha} (Holm across {len(report.tasks)} tasks).",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for c in report.tasks:
        lines.append("| " + " | ".join(_md_escape(x) for x in row_cells(c)) + " |")
    # the notes a reader of a CI summary must see: a judge too weak to trust, a task trained on
    notes = [f"> note: {_md_escape(c.task)}: {_md_escape(n)}" for c in report.tasks
             for n in c.notes if "judge agreement" in n or "train overlap" in n]
    if notes:
        lines += ["", *notes]
    if report.warnings:
        lines += [""] + [f"> warning: {_md_escape(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def write(path: Path | str, text: str) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
