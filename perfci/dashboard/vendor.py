"""Update the vendored chart library: `python -m perfci.dashboard.vendor --version 1.6.32`.

The site works offline, so uPlot is copied into dashboards/static/vendor/uplot/ with its
license and a VERSION file; nothing is downloaded when a site is built or tested.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

PACKAGE = "uplot"
FILES = {
    "package/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
    "package/dist/uPlot.min.css": "uPlot.min.css",
    "package/LICENSE": "LICENSE",
}
TARGET = Path(__file__).resolve().parents[2] / "dashboards" / "static" / "vendor" / "uplot"


def vendored_version(target: Path = TARGET) -> str:
    return (target / "VERSION").read_text().strip()


def update(version: str, target: Path = TARGET) -> None:
    """Fetch `uplot@version` with `npm pack` and replace the vendored files."""
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ValueError(f"{version!r} is not an exact version such as 1.6.32")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{version}", "--silent"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            for member, name in FILES.items():
                source = archive.extractfile(member)
                if source is None:
                    raise ValueError(f"{tarball.name} has no {member}")
                target.mkdir(parents=True, exist_ok=True)
                with source, (target / name).open("wb") as out:
                    shutil.copyfileobj(source, out)
    (target / "VERSION").write_text(version + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perfci.dashboard.vendor", description=__doc__)
    parser.add_argument("--version", required=True, help="exact uPlot version to vendor")
    args = parser.parse_args(argv)
    try:
        update(args.version)
    except (ValueError, OSError, subprocess.CalledProcessError) as exc:
        print(f"vendor: error: {exc}", file=sys.stderr)
        return 2
    print(f"uPlot {args.version} vendored into {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
