"""What the evaluation's modules share."""

from __future__ import annotations

import math


def wilson(hits: int, n: int) -> str:
    """`hits/n` as a percentage with its 95% Wilson score interval."""
    z = 1.959963984540054
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{100 * p:.1f}% [{100 * max(centre - half, 0):.1f}, {100 * min(centre + half, 1):.1f}]"
