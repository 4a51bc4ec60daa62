"""Where the time of a whole-zoo benchmark goes: per method, from a results folder.

    python benchmarks/zoo_times.py results/zoo

Reads every record (no run is repeated) and prints, per method variant, the runs, the
summed load, method and metric seconds, and the slowest run; then what loading costs a
run (the model read and the data drawn, in a sweep worker that has imported everything). The wall time of the sweep
itself is what `interpbench sweep` took; this says which methods to make faster.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def main(folder: str) -> None:
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0.0])
    loads, total = [], 0.0
    for path in Path(folder).glob("*.json"):
        record = json.loads(path.read_text())
        if record.get("status") != "ok" or not record.get("timings"):
            continue
        t = record["timings"]
        settings = ",".join(f"{k}={v}" for k, v in sorted(record["config"].items()) if k == "score")
        row = totals[record["method"] + (f" [{settings}]" if settings else "")]
        row[0] += 1
        row[1] += t["load_seconds"]
        row[2] += t["method_seconds"]
        row[3] += t["metrics_seconds"]
        row[4] = max(row[4], t["method_seconds"])
        loads.append(t["load_seconds"])
        total += t["total_seconds"]
    print("| method | runs | load s | method s | metrics s | slowest run s |")
    print("|---|---|---|---|---|---|")
    for name, (n, load, method, metrics, slowest) in sorted(totals.items(), key=lambda kv: -kv[1][2]):
        print(f"| {name} | {n} | {load:.0f} | {method:.0f} | {metrics:.0f} | {slowest:.1f} |")
    print(
        f"| all | {sum(r[0] for r in totals.values())} | {sum(r[1] for r in totals.values()):.0f} "
        f"| {sum(r[2] for r in totals.values()):.0f} | {sum(r[3] for r in totals.values()):.0f} | |"
    )
    if loads:
        print(
            f"\nLoading: median {statistics.median(loads) * 1000:.0f} ms per run, {sum(loads) / total:.1%} of the "
            f"runs' time ({sum(loads):.0f} of {total:.0f} s); slowest {max(loads):.1f} s."
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/zoo")
