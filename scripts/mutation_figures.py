"""The figures of the last mutation run (scripts/mutation.sh), per module and in all.

Reads mutmut's verdicts from .mutation/mutants/ and prints killed / survived / no test /
timeout for each mutated module, the share killed, and the names of the survivors
(`scripts/mutation.sh show NAME` gives a survivor's diff). Survivors named in
docs/MUTATION.md's list of equivalent mutants are counted apart: they cannot change
behaviour, so no test can kill them.

    .venv/bin/python scripts/mutation_figures.py [--survivors]
"""
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / ".mutation" / "mutants" / "src"
EQUIVALENT_LIST = ROOT / "docs" / "MUTATION.md"

# Helpers that production never calls, removed on the testsuite branch: not counted.
UNUSED = ("core.backoff.x_backoff_schedule_", "core.polling.x_poll_intervals_",
          "core.scroll_rules.x_show_scroll_button_", "core.chat_marks.x_continues_group_",
          "core.formatting.x_time_and_day_")

VERDICTS = {1: "killed", 3: "killed", 0: "survived", 5: "no test", 33: "no test", None: "not run",
            36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}


def equivalent_names():
    """The mutant names listed in docs/MUTATION.md's table of equivalent mutants."""
    if not EQUIVALENT_LIST.exists():
        return set()
    return set(re.findall(r"`([\w.ǁ]+__mutmut_\d+)`", EQUIVALENT_LIST.read_text()))


def verdicts():
    """(module, mutant name, verdict) for every mutant of the last run."""
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        module = meta.relative_to(MUTANTS).as_posix()[: -len(".py.meta")].replace("/", ".")
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if name.startswith(UNUSED):
                continue
            yield module, name, VERDICTS.get(code, "suspicious")


def main(show_survivors):
    equivalent = equivalent_names()
    by_module = defaultdict(Counter)
    survivors = []
    for module, name, verdict in verdicts():
        if verdict == "survived" and name in equivalent:
            verdict = "equivalent"
        by_module[module][verdict] += 1
        if verdict == "survived":
            survivors.append(name)
    total = Counter()
    print(f"{'module':28} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv.':>6} {'no test':>7} {'other':>5}")
    for module, counts in sorted(by_module.items()):
        total.update(counts)
        print(_row(module, counts))
    print(_row("all", total))
    decided = total["killed"] + total["survived"] + total["no test"] + total["timeout"]
    if decided:
        print(f"killed (timeouts count as killed) of those that can change behaviour: "
              f"{(total['killed'] + total['timeout']) / decided:.1%}")
    if show_survivors:
        print("\n".join(survivors))


def _row(module, counts):
    other = sum(counts.values()) - sum(counts[k] for k in ("killed", "survived", "equivalent", "no test"))
    return (f"{module:28} {sum(counts.values()):>7} {counts['killed']:>7} {counts['survived']:>8} "
            f"{counts['equivalent']:>6} {counts['no test']:>7} {other:>5}")


if __name__ == "__main__":
    main("--survivors" in sys.argv[1:])
