"""The two sides of a same-job A/B run, set up so that the code each side's pytest
processes import is that side's own, and torn down whatever happens.

A side given as a commit is checked out as a detached git worktree under
`<repo>/.perfci/ab/<name>-<sha12>-<pid>`; a `.gitignore` of `*` there keeps the
checkouts out of the developer's `git status`. Head without a ref is the working tree
itself, uncommitted changes and all (recorded as `dirty`: that is what the developer
measures). Both sides run the same interpreter (`sys.executable`) and so share the
runner's installed frameworks (torch, mlx, coremltools); PYTHONPATH puts the side's
checkout first (and its `src/` in a src layout), ahead of any installed or editable copy
of the project. An optional setup command (perfci.toml `[ab] setup`) builds each side's
checkout, with the side's environment, before anything is measured.

Teardown always runs: on return, on an exception, on Ctrl-C, and on SIGTERM, which is
turned into KeyboardInterrupt while the context is open (the previous handler comes
back on exit). Worktrees that a killed run left behind (their pid is not alive) are
removed at the next start.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from perfci.git import git

AB_DIR = Path(".perfci") / "ab"
_LEFTOVER = re.compile(r"(base|head)-[0-9a-f]{12}-([0-9]{1,10})")
# Variables that point git at the developer's checkout: a side's own `git rev-parse
# HEAD` (perfci records the commit it measures) must see the side's worktree.
_GIT_LOCATION = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")
_held: set[Path] = set()  # worktrees this process holds now (never leftovers)


class SideError(ValueError):
    """A side cannot be set up: one line the user can act on (a ref that names no
    commit, a failed setup command, git missing)."""


@dataclass(frozen=True)
class Side:
    """One side of an A/B run. Its processes run `python` in `root` with the whole
    environment `env`. `worktree` is False when the side is the working tree itself,
    which is `dirty` when tracked files have uncommitted changes."""

    name: str  # "base" or "head"
    sha: str  # the full 40-hex commit
    root: Path
    env: dict[str, str]
    worktree: bool
    dirty: bool = False
    python: str = field(default=sys.executable)


def rerun_selection(suite: str, name: str) -> str:
    """The pytest node id of the test function that perfci names `name` in `suite`
    (perfci.plugin: the test file relative to pytest's rootdir without `.py`, and
    `Class.method` or the function name). It selects every parametrisation; run it from
    the rootdir the suite was named against."""
    return "::".join([f"{suite}.py", *name.split(".")])


@contextmanager
def sides(
    repo: Path, base_ref: str, head_ref: str | None, setup: str | None = None
) -> Iterator[tuple[Side, Side]]:
    """Base and head of the repository at `repo`, ready to measure: `base_ref` (and
    `head_ref`, else the working tree) as detached worktrees, `setup` run in each side's
    checkout. SideError when a ref names no commit, git is missing or setup fails;
    nothing is left behind in any case."""
    repo = repo.absolute()
    held: list[Path] = []
    with _sigterm_interrupts():
        try:
            yield _open(repo, base_ref, head_ref, setup, held)
        finally:
            with _signals_deferred():
                _close(repo, held)


def _open(
    repo: Path, base_ref: str, head_ref: str | None, setup: str | None, held: list[Path]
) -> tuple[Side, Side]:
    if not repo.is_dir():
        raise SideError(f"{repo}: no such directory")
    inside = _git(repo, "rev-parse", "--show-toplevel", "--show-prefix")
    if inside.returncode != 0:
        raise SideError(f"{repo} is not inside a git repository")
    top, _, prefix = inside.stdout.partition("\n")
    base_sha = _resolve(repo, "--base", base_ref)
    head_sha = _resolve(repo, "--head", head_ref) if head_ref is not None else None
    place = _place(repo)
    _remove_leftovers(repo, place)
    pair = []
    for name, sha in (("base", base_sha), ("head", head_sha)):
        if sha is None:
            side = _working_tree(repo)
        else:
            path = place / f"{name}-{sha[:12]}-{os.getpid()}"
            held.append(path)  # before git runs: a checkout cut short is removed too
            _held.add(path)
            _add(repo, path, name, sha)
            root = path / prefix.strip().strip("/")
            if not root.is_dir():
                raise SideError(f"{name} {sha[:12]} has no folder {prefix.strip()}")
            side = Side(name, sha, root, _environment(root, Path(top), path), True)
        pair.append(side)
    if setup is not None:
        for side in pair:
            _build(side, setup)
    return pair[0], pair[1]


def _working_tree(repo: Path) -> Side:
    head = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head.returncode != 0:
        raise SideError(f"{repo} has no commit yet (HEAD names none)")
    status = _git(repo, "status", "--porcelain", "--untracked-files=no")
    if status.returncode != 0:
        raise SideError(f"git status failed in {repo}: {_last_line(status.stderr)}")
    return Side(
        "head", head.stdout.strip(), repo, _environment(repo), False, bool(status.stdout.strip())
    )


def _resolve(repo: Path, flag: str, ref: str) -> str:
    """The full sha of the commit `ref` names in `repo`."""
    if ref and not ref.startswith("-"):  # never an option to git
        done = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", done.stdout.strip()):
            return done.stdout.strip()
    shown = ref if ref.isprintable() else ascii(ref)[1:-1]
    raise SideError(f"{flag} '{shown}' names no commit here")


def _place(repo: Path) -> Path:
    """`<repo>/.perfci/ab`, made with a `.gitignore` that hides everything in it."""
    place = repo / AB_DIR
    ignore = place / ".gitignore"
    try:
        place.mkdir(parents=True, exist_ok=True)
        if not ignore.is_file() or ignore.read_bytes() != b"*\n":
            ignore.write_bytes(b"*\n")
    except OSError as exc:
        raise SideError(f"cannot prepare {place}: {exc.strerror or exc}") from None
    return place


def _add(repo: Path, path: Path, name: str, sha: str) -> None:
    done = _git(repo, "worktree", "add", "--detach", "--quiet", str(path), sha)
    if done.returncode != 0:
        raise SideError(f"cannot check out {name} {sha[:12]}: {_last_line(done.stderr)}")


def _environment(
    root: Path, top: Path | None = None, checkout: Path | None = None
) -> dict[str, str]:
    """os.environ with `root` (and its `src/` in a src layout) first on PYTHONPATH. For a
    worktree `checkout` of the repository whose top level is `top`, entries already on
    PYTHONPATH inside `top` move to the same place in the checkout, and git's location
    variables go (they would point at the developer's checkout)."""
    env = dict(os.environ)
    paths = [str(p) for p in _import_roots(root)]
    for entry in env.get("PYTHONPATH", "").split(os.pathsep):
        if top is not None and checkout is not None and os.path.isabs(entry):
            moved = Path(os.path.realpath(entry))
            if moved.is_relative_to(top) and not moved.is_relative_to(top / AB_DIR):
                entry = str(checkout / moved.relative_to(top))
        if entry and entry not in paths:
            paths.append(entry)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    if checkout is not None:
        for key in _GIT_LOCATION:
            env.pop(key, None)
    return env


def _import_roots(root: Path) -> list[Path]:
    """The folders a side's code is imported from: `root`, and `root/src` when the
    project uses a src layout (pyproject.toml's tools name src/, or src/ holds a
    package or module)."""
    src = root / "src"
    if not src.is_dir():
        return [root]
    declared = False
    with suppress(OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        doc = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        declared = _names_src(doc.get("tool", {}))
    with suppress(OSError):
        declared = declared or any(
            (child / "__init__.py").is_file() or child.suffix == ".py" for child in src.iterdir()
        )
    return [root, src] if declared else [root]


def _names_src(value: Any) -> bool:
    """Whether a key or string anywhere in `value` is `src` or a path under it (e.g.
    setuptools' package-dir, hatch's packages, poetry's `from`)."""
    if isinstance(value, str):
        return value.rstrip("/") == "src" or value.startswith("src/")
    if isinstance(value, dict):
        return any(_names_src(k) or _names_src(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_names_src(v) for v in value)
    return False


def _build(side: Side, setup: str) -> None:
    """Runs `setup` through the shell in the side's checkout, with its environment."""
    shown = " ".join(setup.split())
    try:
        done = subprocess.run(
            setup,
            shell=True,
            cwd=side.root,
            env=side.env,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )
    except OSError as exc:
        raise SideError(f"setup of {side.name} could not start `{shown}`: {exc}") from None
    if done.returncode != 0:
        how = (
            f"was killed by signal {-done.returncode}"
            if done.returncode < 0
            else f"exited {done.returncode}"
        )
        last = _last_line(done.stderr) or _last_line(done.stdout) or "no output"
        raise SideError(f"setup of {side.name} ({side.sha[:12]}) failed: `{shown}` {how}: {last}")


def _close(repo: Path, held: list[Path]) -> None:
    for path in held:
        _remove(repo, path)
        _held.discard(path)
    if held:
        _prune(repo)


def _remove_leftovers(repo: Path, place: Path) -> None:
    """Removes worktrees of earlier runs whose process is gone, and prunes git's list."""
    try:
        entries = list(place.iterdir())
    except OSError:
        entries = []
    for entry in entries:
        match = _LEFTOVER.fullmatch(entry.name)
        if match and entry not in _held and not _alive(int(match[2])) and entry.is_dir():
            _remove(repo, entry)
    _prune(repo)


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():  # this process holds only what `_held` lists
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # another user's process
    except (OSError, OverflowError):
        return False
    return True


def _remove(repo: Path, path: Path) -> None:
    _git(repo, "worktree", "remove", "--force", "--force", str(path), quiet=True)
    if path.exists() or path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


def _prune(repo: Path) -> None:
    _git(repo, "worktree", "prune", quiet=True)


def _git(cwd: Path, *args: str, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    """git `args` in `cwd`. SideError when git cannot run, unless `quiet` (teardown),
    which then reports a failed run instead."""
    try:
        return git(cwd, *args, timeout=None)
    except OSError as exc:
        if quiet:
            return subprocess.CompletedProcess(["git", *args], 127, "", str(exc))
        if isinstance(exc, FileNotFoundError) and shutil.which("git") is None:
            raise SideError("git is not installed or not on PATH: perfci ab needs it") from None
        raise SideError(f"cannot run git in {cwd}: {exc.strerror or exc}") from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt inside the block (main thread only: elsewhere
    signals are not this code's to take); the previous handler comes back after. An
    ignored SIGTERM stays ignored: whoever started the process asked for that."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    ):
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (teardown is not cut short);
    one that came meanwhile then raises KeyboardInterrupt."""
    caught: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for taken in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(taken) != signal.SIG_IGN:
                previous[taken] = signal.signal(taken, remember)
    try:
        yield
    finally:
        for taken, handler in previous.items():
            signal.signal(taken, handler if handler is not None else signal.SIG_DFL)
    if caught:
        raise KeyboardInterrupt
