"""Incremental output: a manifest of what the last build wrote, so a rebuild rewrites only
files whose content changed, skips pages whose inputs did not, and removes stale ones."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = ".perfci-site.json"
FORMAT = 3


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class SiteWriter:
    out: Path
    inputs: str
    previous_files: dict[str, str]
    previous_pages: dict[str, Any]
    previous_state: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    pages: dict[str, Any] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, out: Path, inputs: str) -> SiteWriter:
        """`inputs` names everything besides the store that shapes pages (templates,
        options); when it changed, no page of the last build is reused."""
        try:
            manifest = json.loads((out / MANIFEST).read_text())
        except (OSError, ValueError):
            manifest = {}
        if manifest.get("format") != FORMAT or manifest.get("inputs") != inputs:
            return cls(out, inputs, manifest.get("files", {}), {})
        return cls(
            out, inputs, manifest["files"], manifest.get("pages", {}), manifest.get("state", {})
        )

    def all_present(self) -> bool:
        """Whether every file of the last build is still there (else nothing is reused)."""
        return all((self.out / path).is_file() for path in self.previous_files)

    def keep(self, path: str) -> None:
        """Carry a file of the last build over unread and unwritten (an immutable chunk)."""
        self.files[path] = self.previous_files[path]

    def write(
        self, path: str, content: str | bytes, key: str | None = None, extra: Any = None
    ) -> None:
        data = content.encode() if isinstance(content, str) else content
        sha = digest(data)
        self.files[path] = sha
        if key is not None:
            self.pages[path] = {"key": key, "extra": extra}
        target = self.out / path
        if self.previous_files.get(path) == sha and target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        self.written.append(path)

    def finish(self) -> list[str]:
        """Remove what the last build wrote and this one did not; save the manifest."""
        removed = sorted(set(self.previous_files) - set(self.files))
        for path in removed:
            (self.out / path).unlink(missing_ok=True)
        manifest = {
            "format": FORMAT,
            "inputs": self.inputs,
            "files": self.files,
            "pages": self.pages,
            "state": self.state,
        }
        (self.out / MANIFEST).write_text(json.dumps(manifest, sort_keys=True))
        return removed
