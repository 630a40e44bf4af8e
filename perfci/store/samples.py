"""Raw samples as compact bytes: little-endian float64, 8 bytes a sample."""

from __future__ import annotations

import struct
from collections.abc import Sequence


def pack(samples: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(samples)}d", *samples)


def unpack(blob: bytes) -> tuple[float, ...]:
    return struct.unpack(f"<{len(blob) // 8}d", blob)
