"""The profile diff on profiles built in code: noise measured from each side's segments,
new, vanished and moved entries, exact Core ML plans (from plan objects of
coremltools' own shapes), MLX's evaluated graphs, the profile file, and hostile names
in the Markdown."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from perfci.explain.diff import diff_profiles, diff_segments
from perfci.explain.profile import (
    OpStat,
    Profile,
    ProfileError,
    Section,
    Segment,
    read_profile,
    write_profile,
)
from perfci.explain.render import explain_markdown, explanation_json


def seg(calls: int = 10, **ops: tuple[float, int]) -> Segment:
    """A torch segment: name=(self CPU seconds over the segment, calls)."""
    return Segment(
        calls, tuple(OpStat(n, "operator", c, self_cpu_s=t) for n, (t, c) in ops.items())
    )


def profile(tool: str, segments: list[Segment], load_s: float | None = None) -> Profile:
    return Profile(
        nodeid="suites/test_x.py::test_x",
        suite="suites/test_x",
        name="test_x",
        params={"n": 3},
        backend="torch",
        device="cpu",
        sections=[Section(tool, segments, load_s=load_s)],
    )


def test_a_change_beyond_the_sides_spread_is_a_change_and_leads() -> None:
    base = [seg(mm=(0.100, 10), add=(0.010, 10)), seg(mm=(0.104, 10), add=(0.011, 10))]
    head = [seg(mm=(0.150, 10), add=(0.0105, 10)), seg(mm=(0.152, 10), add=(0.010, 10))]
    d = diff_segments("torch", base, head)
    mm, add = d.changes[0], d.changes[1]
    assert (mm.name, mm.status) == ("mm", "changed")
    assert mm.delta_s == pytest.approx(0.0049)  # per call: 15.1 ms - 10.2 ms
    # its own spread (0.4 ms a call on base) is under the total's (0.5 ms on base)
    assert mm.noise_s == pytest.approx(0.0005) and d.noise_s == pytest.approx(0.0005)
    assert add.status == "within_noise" and not d.within_noise
    assert d.clock == "cpu" and d.delta_s == pytest.approx(0.016125 - 0.01125)


def test_an_entry_within_the_totals_spread_is_within_noise() -> None:
    """One small operator that is steady on each side but apart between them, while the
    whole profile swings more than that from segment to segment: not named."""
    base = [seg(mm=(0.100, 10), relu=(0.020, 10)), seg(mm=(0.160, 10), relu=(0.021, 10))]
    head = [seg(mm=(0.150, 10), relu=(0.005, 10)), seg(mm=(0.100, 10), relu=(0.006, 10))]
    d = diff_segments("torch", base, head)
    relu = next(c for c in d.changes if c.name == "relu")
    assert relu.delta_s == pytest.approx(-0.0015) and relu.status == "within_noise"
    assert relu.noise_s == pytest.approx(0.0181 - 0.012) and d.within_noise


def test_a_change_within_the_spread_is_within_noise_and_so_is_the_diff() -> None:
    base = [seg(mm=(0.100, 10)), seg(mm=(0.130, 10))]
    head = [seg(mm=(0.125, 10)), seg(mm=(0.110, 10))]
    d = diff_segments("torch", base, head)
    assert d.changes[0].status == "within_noise" and d.within_noise
    e = diff_profiles([profile("torch", base)], [profile("torch", head)])
    assert e.within_noise
    assert explanation_json(e)["summary"] == (
        "every change is within the profiler's own run-to-run noise"
    )


def test_new_and_vanished_need_every_segment_and_calls_are_counted() -> None:
    base = [
        seg(mm=(0.1, 10), gone=(0.01, 10), flaky=(0.001, 1)),
        seg(mm=(0.1, 10), gone=(0.01, 10)),
    ]
    head = [seg(mm=(0.1, 20), to=(0.02, 20)), seg(mm=(0.1, 20), to=(0.02, 20), flaky=(0.001, 1))]
    d = {c.name: c for c in diff_segments("torch", base, head).changes}
    assert d["to"].status == "new" and (d["to"].calls_base, d["to"].calls_head) == (0, 2)
    assert d["gone"].status == "vanished"
    assert d["mm"].status == "changed" and d["mm"].calls_changed and d["mm"].calls_delta == 1
    # seen in one segment of each side, never in all: neither new nor vanished
    assert d["flaky"].status == "within_noise"


def test_segments_of_different_lengths_compare_per_call() -> None:
    base = [seg(10, mm=(0.10, 10)), seg(10, mm=(0.10, 10))]
    head = [seg(4, mm=(0.04, 4)), seg(6, mm=(0.06, 6))]
    d = diff_segments("torch", base, head)
    assert d.changes[0].delta_s == pytest.approx(0.0) and d.within_noise


def test_a_cuda_kernel_is_listed_but_its_time_counted_once() -> None:
    """A kernel's device time is already its launching operator's self device time."""

    def cuda(extra: float) -> Segment:
        mm = OpStat("aten::mm", "operator", 10, 0.001, 0.010 + extra)
        kernel = OpStat("sm90_gemm", "kernel", 10, 0.0, 0.010 + extra)
        return Segment(10, (mm, kernel))

    d = diff_segments("torch", [cuda(0.0), cuda(0.0001)], [cuda(0.010), cuda(0.0101)])
    assert d.clock == "device" and d.base_total_s == pytest.approx(0.001005)
    assert {c.name: c.status for c in d.changes} == {"aten::mm": "changed", "sm90_gemm": "changed"}


def test_an_mps_fallback_is_a_device_move() -> None:
    def mps(device: str | None) -> Segment:
        return Segment(5, (OpStat("aten::cumsum", "operator", 5, 0.01, 0.0, device=device),))

    d = diff_segments("torch", [mps(None), mps(None)], [mps("CPU (MPS fallback)")] * 2)
    change = d.changes[0]
    assert change.moved and change.status == "changed"
    assert (change.device_base, change.device_head) == (None, "CPU (MPS fallback)")


# Core ML: plan objects in the shapes of coremltools.models.compute_plan


@pytest.fixture(scope="module")
def coreml() -> Any:
    return pytest.importorskip(
        "coremltools.models.compute_plan", reason="the plan's own dataclasses"
    )


class Plan:
    """What MLComputePlan answers, for operations named by their first output."""

    def __init__(self, cp: Any, ops: list[tuple[str, str, str, float]]) -> None:
        from coremltools.models import compute_device as cd

        devices = {
            "CPU": cd.MLCPUComputeDevice,
            "GPU": cd.MLGPUComputeDevice,
            "Neural Engine": cd.MLNeuralEngineComputeDevice,
        }
        operations = [
            cp.MLModelStructureProgramOperation(
                inputs={},
                operator_name=kind,
                outputs=[cp.MLModelStructureProgramNamedValueType(name, None)],
                blocks=[],
                __proxy__=None,
            )
            for name, kind, _, _ in ops
        ]
        block = cp.MLModelStructureProgramBlock([], operations, [])
        program = cp.MLModelStructureProgram(
            {"main": cp.MLModelStructureProgramFunction([], block)}
        )
        self.model_structure = cp.MLModelStructure(None, program, None)
        # a device object is only ever made by Core ML: the class is what names it
        self._usage = {
            name: cp.MLComputePlanDeviceUsage(
                preferred_compute_device=object.__new__(devices[device]),
                supported_compute_devices=[],
            )
            for name, _, device, _ in ops
        }
        self._cost = {name: cp.MLComputePlanCost(weight) for name, _, _, weight in ops}

    def get_compute_device_usage_for_mlprogram_operation(self, op: Any) -> Any:
        return self._usage[op.outputs[0].name]

    def get_estimated_cost_for_mlprogram_operation(self, op: Any) -> Any:
        return self._cost[op.outputs[0].name]


def test_a_core_ml_plan_diff_names_device_moves_and_costs(coreml: Any) -> None:
    from perfci.explain.coreml_plan import plan_ops

    relu = ("relu_3", "relu", "Neural Engine", 0.1)
    base = Plan(coreml, [("conv_12", "conv", "Neural Engine", 0.6), relu])
    head = Plan(coreml, [("conv_12", "conv", "CPU", 0.8), relu, ("cast_1", "cast", "CPU", 0.05)])
    b = profile("coreml", [Segment(1, plan_ops(base))], load_s=1.5)
    h = profile("coreml", [Segment(1, plan_ops(head))], load_s=4.0)
    e = diff_profiles([b], [h])
    (section,) = e.sections
    assert section.clock is None and not section.within_noise
    by_name = {c.name: c for c in section.changes}
    conv = by_name["conv_12"]
    assert conv.kind == "operation:conv" and conv.moved and conv.status == "changed"
    assert (conv.device_base, conv.device_head) == ("Neural Engine", "CPU")
    assert (conv.cost_base, conv.cost_head) == (0.6, 0.8)
    assert by_name["cast_1"].status == "new" and by_name["relu_3"].status == "unchanged"
    assert [c.name for c in section.changes][:2] == ["conv_12", "cast_1"]  # moves first
    assert (section.load_base_s, section.load_head_s) == (1.5, 4.0)
    text = explain_markdown(e)
    assert "Neural Engine → CPU" in text and "load and compile 1.5 s → 4 s" in text


def test_an_unchanged_core_ml_plan_is_unchanged(coreml: Any) -> None:
    from perfci.explain.coreml_plan import plan_ops

    ops = [("conv_1", "conv", "GPU", 0.5)]
    e = diff_profiles(
        [profile("coreml", [Segment(1, plan_ops(Plan(coreml, ops)))])],
        [profile("coreml", [Segment(1, plan_ops(Plan(coreml, ops)))])],
    )
    assert e.within_noise and {c.status for c in e.sections[0].changes} == {"unchanged"}


def test_core_ml_is_skipped_with_the_reason_off_macos() -> None:
    from perfci.explain.coreml_plan import collect

    if sys.platform == "darwin":
        pytest.skip("Core ML can run here: the skip is for other systems")
    section = collect(lambda: None)
    assert section.segments == [] and section.notes[0].startswith("Core ML compute plan skipped")


# MLX: primitives of each evaluated graph


def test_mlx_graphs_count_the_primitives_of_each_evaluation(tmp_path: Path) -> None:
    mx = pytest.importorskip("mlx.core", reason="MLX's graph export")
    from perfci.explain.mlx_graphs import collect

    a, b = mx.random.normal((32, 32)), mx.random.normal((32, 32))
    mx.eval(a, b)

    def step(extra: bool) -> None:
        out = a @ b
        mx.eval((out @ b) if extra else out)

    sides = [collect(lambda x=x: step(x), 4, tmp_path, "cpu") for x in (False, True)]  # type: ignore[misc]
    assert mx.eval is not None and "perfci" not in type(mx.eval).__module__  # put back
    assert (tmp_path / "mlx-graph.dot").read_text().startswith("digraph")
    d = {c.name: c for c in diff_segments("mlx", sides[0].segments, sides[1].segments).changes}
    assert d["Matmul"].kind == "primitive" and (d["Matmul"].calls_base, d["Matmul"].calls_head) == (
        1,
        2,
    )
    assert d["Matmul"].status == "changed" and d["eval #1"].kind == "graph"
    if sys.platform != "darwin":
        assert sides[0].notes == ["Metal capture (.gputrace) skipped: it needs macOS"]


# The profile file and the Markdown


def test_a_profile_file_round_trips_and_anything_else_is_refused(tmp_path: Path) -> None:
    p = profile("torch", [seg(mm=(0.1, 10))])
    p.sections[0].segments[0] = Segment(
        10, (OpStat("aten::mm", "operator", 10, 0.1, 0.0, ("[[2, 2]]",)),)
    )
    write_profile(p, tmp_path / "p.json")
    assert read_profile(tmp_path / "p.json") == p
    (tmp_path / "bad.json").write_text('{"format_version": 1, "nodeid": 3}')
    with pytest.raises(ProfileError, match="not a perfci profile"):
        read_profile(tmp_path / "bad.json")
    (tmp_path / "new.json").write_text('{"format_version": 99}')
    with pytest.raises(ProfileError, match="profile format 99"):
        read_profile(tmp_path / "new.json")


HOSTILE = "<img src=x onerror=alert(1)> @octocat #12 `x|y` [a](http://e.com) **b**"


def test_hostile_names_render_as_text_in_the_markdown() -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="GitHub's Markdown renderer")
    base = [seg(**{HOSTILE: (0.1, 10)}), seg(**{HOSTILE: (0.1, 10)})]
    head = [seg(**{HOSTILE: (0.3, 20)}), seg(**{HOSTILE: (0.3, 20)})]
    p_b, p_h = profile("torch", base), profile("torch", head)
    p_h.name = p_b.name = HOSTILE
    page = cmarkgfm.markdown_to_html_with_extensions(
        explain_markdown(diff_profiles([p_b], [p_h])),
        extensions=["table", "autolink", "strikethrough", "tagfilter"],
    )
    assert "<img" not in page and "<a " not in page and "<strong>" not in page
    outside_code = re.sub(r"<code>.*?</code>", "", page)
    assert "@octocat" not in outside_code  # a word joiner follows each @ there
    assert len(re.findall(r"<tr>", page)) == 2  # the header and the one row: no pipe broke it
