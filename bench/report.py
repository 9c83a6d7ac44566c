"""The benchmarks' figures and their table (bench/run.py, bench/scale.py): each figure is
printed as it is measured and gathered into the Markdown table bench/RESULTS.md holds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Row:
    section: str
    name: str
    value: float | None
    unit: str
    note: str = ""
    target: str = ""
    passed: bool | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    name_width: int = 52  # of the printed line's figure name and value
    value_width: int = 14

    def add(self, section, name, value, unit, note="", target="", passed=None):
        self.rows.append(Row(section, name, value, unit, note, target, passed))
        print(f"  {section:8} {name:{self.name_width}} {fmt(value, unit):>{self.value_width}}  {target} "
              f"{verdict(passed)}", flush=True)

    def table(self) -> str:
        lines = ["| section | figure | value | target | result | note |", "|---|---|---:|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r.section} | {r.name} | {fmt(r.value, r.unit)} | {r.target} | {verdict(r.passed)} "
                         f"| {r.note} |")
        return "\n".join(lines)


def fmt(value, unit):
    if value is None:
        return "n/a"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MB":
        return f"{value:.2f} MB"
    if unit == "KB":
        return f"{value:.1f} KB"
    if unit in ("ms", "ms/msg"):
        return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "/s":
        return f"{value:.1f} /s"
    return f"{value:g} {unit}".strip()


def verdict(passed):
    return "" if passed is None else ("PASS" if passed else "FAIL")
