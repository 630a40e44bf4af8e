"""The two sides of a same-job A/B run, in real git repositories: any ref git knows, the
side's own code imported ahead of an editable install, setup per side, and teardown
after a return, an exception, Ctrl-C, SIGTERM and a killed earlier run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import threading
import venv
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from test_plugin import BENCH_ARGS, INI, load

from perfci.ab.worktree import Side, SideError, rerun_selection, sides

ROOT = Path(__file__).parents[1]
VALUES = ("one", "two", "three")  # mod.VALUE at each commit of the fixture's repository


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", *files)
    git(repo, "commit", "-q", "--no-gpg-sign", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def new_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: three commits of mod.py; tag v1 (lightweight) and branch `old` on the first,
    annotated tag v2 on the second."""
    path = new_repo(tmp_path / "repo")
    for i, value in enumerate(VALUES):
        commit(path, {"mod.py": f"VALUE = {value!r}\n"}, f"commit {i}")
        if i == 0:
            git(path, "tag", "v1")
            git(path, "branch", "old")
        if i == 1:
            git(path, "tag", "-a", "v2", "-m", "second")
    return path


def shas(repo: Path) -> list[str]:
    return git(repo, "rev-list", "--reverse", "main").split()


def worktrees(repo: Path) -> list[str]:
    listed = git(repo, "worktree", "list", "--porcelain").splitlines()
    return [line.removeprefix("worktree ") for line in listed if line.startswith("worktree ")]


def assert_clean(repo: Path, under: Path | None = None) -> None:
    """Nothing left of any side: git lists the main worktree only, .perfci/ab (of `repo`,
    or of the subfolder `under`) holds only its .gitignore."""
    assert worktrees(repo) == [str(repo)]
    place = (under or repo) / ".perfci" / "ab"
    assert sorted(p.name for p in place.iterdir()) == [".gitignore"]


def value_in(root: Path) -> str:
    return (root / "mod.py").read_text().split("'")[1]


@pytest.mark.parametrize(
    ("ref", "index"),
    [
        ("sha-prefix", 0),
        ("full-sha", 1),
        ("old", 0),  # a branch
        ("v1", 0),  # a lightweight tag
        ("v2", 1),  # an annotated tag: its commit
        ("HEAD~1", 1),
        ("main^^", 0),
        ("main", 2),
    ],
)
def test_any_ref_git_knows_is_checked_out(repo: Path, ref: str, index: int) -> None:
    commits = shas(repo)
    given = {"sha-prefix": commits[0][:7], "full-sha": commits[1]}.get(ref, ref)
    with sides(repo, given, "HEAD") as (base, head):
        assert (base.name, base.sha, base.worktree, base.dirty) == (
            "base",
            commits[index],
            True,
            False,
        )
        assert base.root.parent == repo / ".perfci" / "ab"
        assert base.root.name == f"base-{commits[index][:12]}-{os.getpid()}"
        assert value_in(base.root) == VALUES[index]
        assert git(base.root, "rev-parse", "HEAD") == commits[index]
        assert (head.name, head.sha, head.worktree) == ("head", commits[-1], True)
        assert value_in(head.root) == VALUES[-1]
        assert head.root != base.root and base.python == head.python == sys.executable
        assert sorted(worktrees(repo)) == sorted([str(repo), str(base.root), str(head.root)])
    assert_clean(repo)


def test_head_without_a_ref_is_the_working_tree(repo: Path) -> None:
    commits = shas(repo)
    (repo / "notes.txt").write_text("untracked: not a change to what is measured\n")
    with sides(repo, "HEAD~2", None) as (base, head):
        assert (head.name, head.sha, head.root, head.worktree, head.dirty) == (
            "head",
            commits[-1],
            repo,
            False,
            False,
        )
        assert value_in(base.root) == VALUES[0] and base.worktree
        assert worktrees(repo) == [str(repo), str(base.root)]
    (repo / "mod.py").write_text("VALUE = 'edited'\n")
    with sides(repo, "HEAD~2", None) as (_, head):
        assert head.dirty and value_in(head.root) == "edited"
    git(repo, "add", "mod.py")  # staged counts as uncommitted too
    with sides(repo, "HEAD~2", None) as (_, head):
        assert head.dirty
    assert_clean(repo)


@pytest.mark.parametrize(
    ("flag", "ref", "shown"),
    [
        ("--base", "nope", "nope"),
        ("--base", "v9", "v9"),
        ("--base", "", ""),
        ("--base", "-h", "-h"),
        ("--base", "--all", "--all"),
        ("--base", "HEAD~9", "HEAD~9"),
        ("--base", "a\nb", "a\\nb"),
        ("--head", "nope", "nope"),
    ],
)
def test_a_ref_that_names_no_commit_is_one_line(
    repo: Path, flag: str, ref: str, shown: str
) -> None:
    base, head = (ref, "HEAD") if flag == "--base" else ("HEAD~1", ref)
    with pytest.raises(SideError) as caught, sides(repo, base, head):
        pytest.fail("entered")
    assert str(caught.value) == f"{flag} '{shown}' names no commit here"
    assert worktrees(repo) == [str(repo)]
    assert not (repo / ".perfci").exists()  # refused before anything was made


@pytest.mark.parametrize("object_of", ["HEAD^{tree}", "HEAD:mod.py"])
def test_a_tree_or_blob_names_no_commit(repo: Path, object_of: str) -> None:
    sha = git(repo, "rev-parse", object_of)
    message = f"^--base '{sha}' names no commit here$"
    with pytest.raises(SideError, match=message), sides(repo, sha, None):
        pytest.fail("entered")


def test_outside_git_and_without_git(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with (
        pytest.raises(SideError, match=r"is not inside a git repository$"),
        sides(plain, "HEAD", None),
    ):
        pytest.fail("entered")
    with (
        pytest.raises(SideError, match=r"no such directory$"),
        sides(tmp_path / "gone", "HEAD", None),
    ):
        pytest.fail("entered")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with (
        pytest.raises(SideError, match=r"^git is not installed or not on PATH"),
        sides(repo, "HEAD", None),
    ):
        pytest.fail("entered")


def test_an_empty_repository_needs_a_head_ref(tmp_path: Path) -> None:
    empty = new_repo(tmp_path / "empty")
    with (
        pytest.raises(SideError, match=r"^--base 'HEAD' names no commit here$"),
        sides(empty, "HEAD", None),
    ):
        pytest.fail("entered")


PROBE = """
import json, sys
try:
    import mod
except ImportError:
    print(json.dumps(None))
else:
    print(json.dumps([mod.VALUE, mod.__file__]))
"""


def probe(tmp_path: Path, python: str, cwd: Path, env: dict[str, str] | None) -> object:
    """What `import mod` gives a script that lives outside every checkout (so its own
    folder, first on sys.path, holds no copy)."""
    script = tmp_path / "probe" / "probe.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(PROBE)
    done = subprocess.run(
        [python, str(script)], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_side_imports_its_own_code(tmp_path: Path, repo: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with sides(repo, "HEAD~2", "HEAD~1") as (base, head):
        for side, value in ((base, VALUES[0]), (head, VALUES[1])):
            assert probe(tmp_path, side.python, side.root, side.env) == [
                value,
                str(side.root / "mod.py"),
            ]
            assert probe(tmp_path, side.python, side.root, clean) is None  # the env does it


def test_pythonpath_into_the_checkout_follows_the_side(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "shared-libs"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(repo / "lib"), str(elsewhere)]))
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    with sides(repo, "HEAD~1", None) as (base, head):
        assert base.env["PYTHONPATH"].split(os.pathsep) == [
            str(base.root),
            str(base.root / "lib"),
            str(elsewhere),
        ]
        assert "GIT_DIR" not in base.env  # its git sees its own worktree
        assert head.env["PYTHONPATH"].split(os.pathsep)[0] == str(repo)
        assert head.env["GIT_DIR"] == str(repo / ".git")
        assert {k: v for k, v in base.env.items() if k not in ("PYTHONPATH", "GIT_DIR")} == {
            k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GIT_DIR")
        }


def _runner_venv(tmp_path: Path) -> Path:
    """A throwaway environment that sees the runner's packages (a .pth naming this
    environment's site-packages), as a CI runner's venv sees its heavy frameworks."""
    env = tmp_path / "venv"
    venv.create(env, with_pip=False)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)}))
    (purelib / "_runner.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env / "bin" / "python"


LAYOUTS = {
    "setuptools-flat": (
        "mod.py",
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tinymod"\nversion = "0.1"\n[tool.setuptools]\npy-modules = ["mod"]\n',
    ),
    "hatchling-src": (
        "src/mod/__init__.py",
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "tinymod"\nversion = "0.1"\n'
        '[tool.hatch.build]\ndev-mode-dirs = ["src"]\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/mod"]\n',
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_side_shadows_an_editable_install_of_the_main_checkout(
    tmp_path: Path, layout: str
) -> None:
    module, pyproject = LAYOUTS[layout]
    project = new_repo(tmp_path / "project")
    for value in VALUES[:2]:
        commit(project, {"pyproject.toml": pyproject, module: f"VALUE = {value!r}\n"}, value)
    python = _runner_venv(tmp_path)
    installed = subprocess.run(
        [
            *(str(python), "-m", "pip", "install", "-q", "--no-deps"),
            *("--no-build-isolation", "--no-index", "-e", str(project)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # installed: the main checkout's copy, from anywhere
    assert probe(tmp_path, str(python), tmp_path, clean) == [VALUES[1], str(project / module)]
    with sides(project, "HEAD~1", None) as (base, head):
        got = probe(tmp_path, str(python), base.root, base.env)
        assert got == [VALUES[0], str(base.root / module)]
        got = probe(tmp_path, str(python), head.root, head.env)
        assert got == [VALUES[1], str(project / module)]
    assert_clean(project)


@pytest.mark.parametrize(
    ("files", "src_first"),
    [
        ({"src/pkg/__init__.py": ""}, True),  # a package in src/
        ({"src/single.py": ""}, True),  # a module in src/
        # a namespace package, src/ named by the build configuration
        (
            {
                "src/ns/mod.py": "",
                "pyproject.toml": '[tool.setuptools.packages.find]\nwhere = ["src"]\n',
            },
            True,
        ),
        ({"src/ns/mod.py": ""}, False),  # nothing says src/ is where the code lives
        ({"src/main.c": "", "pyproject.toml": '[project]\nname = "src"\n'}, False),
    ],
)
def test_a_src_layout_puts_src_on_the_path(
    tmp_path: Path, files: dict[str, str], src_first: bool
) -> None:
    project = new_repo(tmp_path / "project")
    commit(project, files, "layout")
    with sides(project, "HEAD", None) as (base, head):
        for side in (base, head):
            expected = [side.root, side.root / "src"] if src_first else [side.root]
            assert side.env["PYTHONPATH"].split(os.pathsep)[: len(expected)] == [
                str(p) for p in expected
            ]
            if not src_first:
                assert str(side.root / "src") not in side.env["PYTHONPATH"].split(os.pathsep)


SETUP = 'printf "%s\\n%s\\n" "$(git rev-parse HEAD)" "$PYTHONPATH" > built.txt'


def test_setup_runs_in_each_sides_checkout_with_its_environment(repo: Path) -> None:
    with sides(repo, "HEAD~2", "HEAD~1", setup=SETUP) as pair:
        for side in pair:
            sha, pythonpath = (side.root / "built.txt").read_text().splitlines()
            assert sha == side.sha
            assert pythonpath == side.env["PYTHONPATH"]
            assert pythonpath.split(os.pathsep)[0] == str(side.root)
    with sides(repo, "HEAD~2", None, setup=SETUP) as (_, head):
        assert (repo / "built.txt").read_text().splitlines()[0] == head.sha
    assert_clean(repo)


def test_a_failing_setup_names_the_side_and_its_last_error_line(repo: Path) -> None:
    commits = shas(repo)
    setup = (
        'echo compiling; echo "warning: slow" >&2\n'
        f'if [ "$(git rev-parse HEAD)" = "{commits[-1]}" ]; then\n'
        '  echo "error: no compiler" >&2; echo; exit 3\nfi'
    )
    with pytest.raises(SideError) as caught, sides(repo, "HEAD~1", "HEAD", setup=setup):
        pytest.fail("entered")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"setup of head ({commits[-1][:12]}) failed: `echo compiling;")
    assert message.endswith("fi` exited 3: error: no compiler")
    assert_clean(repo)  # base was set up, and removed
    failed = r"^setup of base \(.*\) failed: `exit 4` exited 4: no output$"
    with pytest.raises(SideError, match=failed), sides(repo, "HEAD~1", None, setup="exit 4"):
        pytest.fail("entered")
    assert_clean(repo)


def test_teardown_after_return_and_exception(repo: Path) -> None:
    with sides(repo, "HEAD~1", "HEAD") as (base, head):
        roots = [base.root, head.root]
        assert all(root.is_dir() for root in roots)
    assert not any(root.exists() for root in roots)
    assert_clean(repo)
    with pytest.raises(RuntimeError, match=r"^boom$"), sides(repo, "HEAD~1", "HEAD") as pair:
        roots = [side.root for side in pair]
        raise RuntimeError("boom")
    assert not any(root.exists() for root in roots)
    assert_clean(repo)


def test_teardown_after_keyboard_interrupt(repo: Path) -> None:
    with pytest.raises(KeyboardInterrupt), sides(repo, "HEAD~1", None) as (base, _):
        root = base.root
        raise KeyboardInterrupt
    assert not root.exists()
    assert_clean(repo)


@pytest.fixture
def sigterm_handler() -> Iterator[object]:
    """A SIGTERM handler of the test's own, in place around the test."""

    def own(signum: int, frame: FrameType | None) -> None:
        raise AssertionError("the test's handler ran")

    previous = signal.signal(signal.SIGTERM, own)
    try:
        yield own
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigterm_inside_is_an_interrupt_and_the_handler_comes_back(
    repo: Path, sigterm_handler: object
) -> None:
    with pytest.raises(KeyboardInterrupt), sides(repo, "HEAD~1", "HEAD") as (base, head):
        assert signal.getsignal(signal.SIGTERM) is not sigterm_handler
        os.kill(os.getpid(), signal.SIGTERM)
        pytest.fail("SIGTERM did not interrupt")
    assert signal.getsignal(signal.SIGTERM) is sigterm_handler
    assert not base.root.exists() and not head.root.exists()
    assert_clean(repo)
    with sides(repo, "HEAD~1", "HEAD"):
        pass
    assert signal.getsignal(signal.SIGTERM) is sigterm_handler


def test_an_ignored_sigterm_stays_ignored(repo: Path) -> None:
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with sides(repo, "HEAD~1", None) as (base, _):
            os.kill(os.getpid(), signal.SIGTERM)
            assert base.root.is_dir()
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert_clean(repo)


def test_sides_in_another_thread_leave_signals_alone(repo: Path) -> None:
    handlers = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    seen: list[object] = []

    def body() -> None:
        with sides(repo, "HEAD~1", None) as (base, _):
            seen.append((signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)))
            seen.append(base.root.is_dir())

    worker = threading.Thread(target=body)
    worker.start()
    worker.join(timeout=120)
    assert seen == [handlers, True]
    assert_clean(repo)


HOLDER = """
import json, sys, time
from pathlib import Path
from perfci.ab.worktree import sides
with sides(Path(sys.argv[1]), "HEAD~1", "HEAD") as pair:
    print(json.dumps([str(side.root) for side in pair]), flush=True)
    time.sleep(300)
"""


def hold(repo: Path) -> tuple[subprocess.Popen[str], list[Path]]:
    """A process that enters `sides` and sleeps; its two checkouts."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line:
        process.kill()
        _, err = process.communicate(timeout=60)
        pytest.fail(f"the holder did not start: {err}")
    roots = [Path(p) for p in json.loads(line)]
    assert all(root.is_dir() for root in roots)
    return process, roots


def test_sigterm_to_the_process_removes_its_worktrees(repo: Path) -> None:
    process, roots = hold(repo)
    assert sorted(worktrees(repo)) == sorted([str(repo), *map(str, roots)])
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode != 0 and "KeyboardInterrupt" in err
    assert not any(root.exists() for root in roots)
    assert_clean(repo)


def test_leftovers_of_a_killed_run_go_at_the_next_start(repo: Path) -> None:
    process, dead_roots = hold(repo)
    process.kill()
    process.communicate(timeout=60)
    assert all(root.is_dir() for root in dead_roots)  # SIGKILL: no teardown
    # a run still alive keeps its checkout; a folder perfci did not name is not touched
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        sha = shas(repo)[0]
        kept = repo / ".perfci" / "ab" / f"base-{sha[:12]}-{alive.pid}"
        git(repo, "worktree", "add", "--detach", "-q", str(kept), sha)
        other = repo / ".perfci" / "ab" / "notes"
        other.mkdir()
        gone = repo / ".perfci" / "ab" / f"head-{sha[:12]}-{process.pid}"
        git(repo, "worktree", "add", "--detach", "-q", str(gone), sha)
        (gone / "mod.py").write_text("changed in a leftover\n")
        with sides(repo, "HEAD~1", "HEAD") as (base, head):
            assert not any(root.exists() for root in dead_roots) and not gone.exists()
            assert kept.is_dir() and other.is_dir()
            assert sorted(worktrees(repo)) == sorted(
                [str(repo), str(kept), str(base.root), str(head.root)]
            )
        assert kept.is_dir() and worktrees(repo) == [str(repo), str(kept)]
    finally:
        alive.kill()
        alive.wait()
    git(repo, "worktree", "remove", "--force", str(kept))
    other.rmdir()
    assert_clean(repo)


def test_a_leftover_under_this_process_id_is_an_earlier_runs(repo: Path) -> None:
    """In a container every job may run under the same pid: a leftover named with this
    process's pid that this process does not hold is stale, even at the very path this
    run wants."""
    sha = shas(repo)[-2]
    with sides(repo, "HEAD~1", None):
        pass  # makes .perfci/ab
    stale = repo / ".perfci" / "ab" / f"base-{sha[:12]}-{os.getpid()}"
    git(repo, "worktree", "add", "--detach", "-q", str(stale), "HEAD")
    with sides(repo, "HEAD~1", None) as (base, _):
        assert base.root == stale and value_in(base.root) == VALUES[1]  # HEAD~1, not HEAD
    assert_clean(repo)


def test_git_status_of_the_repository_is_unchanged(repo: Path) -> None:
    (repo / "mod.py").write_text("VALUE = 'edited'\n")
    (repo / "new.txt").write_text("untracked\n")
    before = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert before  # the comparison sees changes
    with sides(repo, "HEAD~2", "HEAD~1") as (base, head):
        (base.root / "mod.py").write_text("VALUE = 'edited in the side'\n")
        (head.root / "build.out").write_text("a setup's output\n")
        assert git(repo, "status", "--porcelain", "--untracked-files=all") == before
        assert git(base.root, "status", "--porcelain") == "M mod.py"
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == before
    assert_clean(repo)


def test_a_side_in_a_subfolder_runs_in_the_same_subfolder(repo: Path) -> None:
    commit(repo, {"pkg/sub/mod.py": "VALUE = 'sub'\n"}, "a project in a subfolder")
    sha = shas(repo)[-1]
    sub = repo / "pkg" / "sub"
    with sides(sub, "HEAD", None) as (base, head):
        checkout = sub / ".perfci" / "ab" / f"base-{sha[:12]}-{os.getpid()}"
        assert base.root == checkout / "pkg" / "sub" and value_in(base.root) == "sub"
        assert base.env["PYTHONPATH"].split(os.pathsep)[0] == str(base.root)
        assert head.root == sub
        assert git(repo, "status", "--porcelain") == ""
    missing = r"^base \w{12} has no folder pkg/sub/$"
    with pytest.raises(SideError, match=missing), sides(sub, "HEAD~1", None):
        pytest.fail("entered")
    assert_clean(repo, sub)


@pytest.mark.parametrize(
    ("suite", "name", "node"),
    [
        (
            "benchmarks/color/yuv_test",
            "test_rgb_to_yuv_benchmark",
            "benchmarks/color/yuv_test.py::test_rgb_to_yuv_benchmark",
        ),
        ("suites/x/test_a", "TestA.test_b", "suites/x/test_a.py::TestA::test_b"),
    ],
)
def test_rerun_selection_is_the_node_id(suite: str, name: str, node: str) -> None:
    assert rerun_selection(suite, name) == node


BENCHMARKS = {
    "benchmarks/color/yuv_test.py": """
def test_rgb_to_yuv_benchmark(benchmark):
    benchmark(sum, range(10))


def test_rgb_to_yuv_benchmark_wide(benchmark):
    benchmark(sum, range(20))
""",
    "suites/x/test_a.py": """
import pytest


class TestA:
    @pytest.mark.parametrize("n", [1, 2])
    def test_b(self, benchmark, n):
        benchmark(sum, range(n))

    def test_c(self, benchmark):
        benchmark(sum, range(3))


def test_b(benchmark):
    benchmark(sum, range(4))
""",
}


@pytest.mark.slow
def test_pytest_collects_exactly_the_benchmarks_perfci_named(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    for path, text in BENCHMARKS.items():
        (pytester.path / path).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / path).write_text(text)
    out = pytester.path / "run.json"
    ran = pytester.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", *BENCHMARKS)
    ran.assert_outcomes(passed=6)
    named: dict[tuple[str, str], int] = {}
    for benchmark in load(out).benchmarks:
        key = (benchmark.suite, benchmark.name)
        named[key] = named.get(key, 0) + 1
    assert len(named) == 5
    for (suite, name), count in named.items():
        node = rerun_selection(suite, name)
        collected = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", node)
        ids = [line for line in collected.outlines if "::" in line]
        assert len(ids) == count, (node, collected.outlines)
        assert all(i == node or i.startswith(node + "[") for i in ids), (node, ids)


def test_side_is_frozen(repo: Path) -> None:
    with sides(repo, "HEAD", None) as (base, _):
        assert isinstance(base, Side)
        with pytest.raises(AttributeError):
            base.sha = "0" * 40  # type: ignore[misc]
