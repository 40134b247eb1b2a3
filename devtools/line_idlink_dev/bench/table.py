"""One table per benchmark: metric | measured | target | ratio | verdict.

``ratio`` is always oriented so that it reads against the target given beside it: for a "≥"
target it is measured / reference, for a "≤" target measured / limit. Correctness checks
(duplicates, lost, accepted forgeries) have no ratio: they are exact.
"""

import dataclasses

PASS, FAIL, INFO = "PASS", "FAIL", "-"


@dataclasses.dataclass
class Row:
    metric: str
    measured: str
    target: str = ""
    ratio: str = ""
    verdict: str = INFO
    check: bool = False  # a correctness check (exact target), not a speed or size figure


def _num(value, digits=None):
    if isinstance(value, int):
        return f"{value:,}"
    if digits is None:
        digits = 0 if abs(value) >= 1000 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}"


def info(metric, value, unit=""):
    text = value if isinstance(value, str) else _num(value)
    return Row(metric, f"{text} {unit}".strip())


def ratio_at_least(metric, value, reference, minimum, unit="", reference_name="reference"):
    """Target: value / reference >= minimum (e.g. 0.95 of a ceiling, 0.9 of a bare loop)."""
    ratio = value / reference if reference else 0.0
    return Row(metric, f"{_num(value)} {unit}".strip(),
               f"≥ {minimum:g} × {_num(reference)} ({reference_name})", f"{ratio:.2f}",
               PASS if ratio >= minimum else FAIL)


def at_most(metric, value, limit, unit=""):
    ratio = value / limit if limit else float("inf")
    return Row(metric, f"{_num(value)} {unit}".strip(), f"≤ {_num(limit)} {unit}".strip(),
               f"{ratio:.2f}", PASS if value <= limit else FAIL)


def exactly(metric, value, expected):
    return Row(metric, _num(value), f"= {_num(expected)}", "", PASS if value == expected else FAIL,
               check=True)


def render(title, rows):
    header = ("metric", "measured", "target", "ratio", "verdict")
    cells = [header] + [(r.metric, r.measured, r.target, r.ratio, r.verdict) for r in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(header))]
    line = "-+-".join("-" * w for w in widths)
    out = [f"== {title}", " | ".join(h.ljust(w) for h, w in zip(header, widths)), line]
    for row in cells[1:]:
        out.append(" | ".join([row[0].ljust(widths[0]), row[1].rjust(widths[1]),
                               row[2].ljust(widths[2]), row[3].rjust(widths[3]), row[4]]))
    return "\n".join(out)
