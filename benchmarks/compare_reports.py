"""Paired per-case comparison of two leaderboards, from their per-case tables.

    python benchmarks/compare_reports.py OLD.md NEW.md --methods edge-sp,node-sp

Reads the ``Per case: edge_auroc`` table of two ``interpbench report`` markdown files (say
a committed ``docs/results/zoo.md`` from before a change, ``git show REV:docs/results/zoo.md``,
and the one after it) and, per method, over the cases both have: both means, how many cases
moved by more than 0.01 either way, and the Wilcoxon signed-rank p of the paired
differences. For a change to a method's defaults, whose old records are gone but whose old
report is in git.
"""

from __future__ import annotations

import argparse

from scipy.stats import wilcoxon


def per_case(path: str) -> dict[str, dict[str, str]]:
    lines = open(path).read().split("## Per case: edge_auroc", 1)[1].strip().splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def column(rows: dict[str, dict[str, str]], method: str) -> str:
    names = {name for row in rows.values() for name in row if name.split(" (")[0] == method}
    if len(names) != 1:
        raise SystemExit(f"{method}: {len(names)} columns in a per-case table ({sorted(names)})")
    return names.pop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--methods", required=True, help="comma-separated method columns, e.g. edge-sp,node-sp")
    args = parser.parse_args()
    old, new = per_case(args.old), per_case(args.new)
    print("| method | cases | old mean | new mean | down > 0.01 | up > 0.01 | Wilcoxon p |")
    print("|---|---|---|---|---|---|---|")
    for method in args.methods.split(","):
        a, b = column(old, method), column(new, method)
        pairs = [
            (float(old[case][a]), float(new[case][b]))
            for case in old
            if case in new and old[case].get(a, "n/a") != "n/a" and new[case].get(b, "n/a") != "n/a"
        ]
        changes = [y - x for x, y in pairs]
        moved = [d for d in changes if d != 0]
        p = wilcoxon(moved).pvalue if moved else 1.0
        print(
            f"| {method} | {len(pairs)} | {sum(x for x, _ in pairs) / len(pairs):.4f} "
            f"| {sum(y for _, y in pairs) / len(pairs):.4f} | {sum(d < -0.01 for d in changes)} "
            f"| {sum(d > 0.01 for d in changes)} | {p:.2g} |"
        )


if __name__ == "__main__":
    main()
