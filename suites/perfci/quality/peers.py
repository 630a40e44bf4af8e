"""Run inside the peers' virtual environment: Apache Otava 0.8 and asv's step detection at
their defaults on series read as JSON from stdin; prints each series' change points."""

import json
import sys

from asv.step_detect import detect_regressions, detect_steps
from otava.analysis import compute_change_points


def otava(values):
    points, _ = compute_change_points(values, window_len=50, max_pvalue=0.001)
    return [[int(cp.index), 1 if cp.stats.mean_2 > cp.stats.mean_1 else -1] for cp in points]


def asv(values):
    # asv reports only regressions (upward steps) above its 5% default threshold
    _, _, regressions = detect_regressions(detect_steps(values), threshold=0.05)
    return [[int(after), 1] for _, after, _, _ in regressions or []]


def main():
    batch = json.load(sys.stdin)
    out = [{"otava": otava(v), "asv": asv(v)} for v in batch]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
