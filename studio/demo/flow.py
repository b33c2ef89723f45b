"""The demo job: ``run(DemoParams(workdir), progress) -> DemoReport``.

Every step is the job the app's own pages and commands run; nothing here is a shortcut around them. The
captures are real: one virtual board per recording, each on its own pseudo-terminal, read by the capture job
in parallel (so 16 recordings of 20 s take 20 s). Each finished step goes out through ``progress.partial``
as a ``StepDone`` so a caller can print it as it happens.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from studio.boards import get_board
from studio.deploy.export.project import export_project
from studio.deploy.pio import default_core_dir
from studio.deploy.pio.build import build_project, firmware_elf, native_program
from studio.deploy.running import agreement, emulated
from studio.deploy.running.result_line import ResultLine, parse_line
from studio.devices import capture
from studio.devices.listing import IN_PROCESS_VIRTUAL
from studio.dsp import features
from studio.dsp.windowing import ImpulseConfig
from studio.errors import StudioError
from studio.estimate import estimate
from studio.jobs import ProgressLike
from studio.learn import classify, train
from studio.learn.runs import Run
from studio.project import Project

GESTURES = ("idle", "wave", "circle", "shake")
BOARD = "nano33ble"  # the board the estimate and the firmware are for
EMULATED = "virtual-cortex-m4"  # the board the firmware is flashed to here
FREQUENCY_HZ = 100.0
AXES = ["accX", "accY", "accZ"]
MARK = ".tinyml-studio-demo"  # marks a folder as the demo's own, so a rerun may clear it
PROJECT = "project"
STAGES = ("train", "deploy")


class DemoError(StudioError):
    pass


@dataclass
class DemoParams:
    workdir: Path
    seconds: float = 20.0  # per recording
    training_people: int = 3  # each records every gesture once
    testing_people: int = 1  # people the model never trains on
    epochs: int = 30
    live_seconds: float = 4.0  # of each gesture streamed live to the emulated board
    core_dir: Path | None = None  # the PlatformIO core; None: the app's own
    until: str = "deploy"  # "train": stop once the model is trained (the window opens on that)
    seed: int = 7


@dataclass(frozen=True)
class StepDone:
    name: str
    seconds: float
    summary: str


@dataclass
class DemoReport:
    workdir: str
    project: str
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step
    data: dict[str, Any] = field(default_factory=dict)
    impulse: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    test: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, Any] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)
    builds: dict[str, Any] = field(default_factory=dict)
    native: dict[str, Any] = field(default_factory=dict)
    emulated: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


# ---------------------------------------------------------------------------------------------- the folder


def prepare_workdir(workdir: Path) -> Path:
    """An empty folder, or one an earlier demo made (cleared); anything else is refused, never cleared."""
    workdir = Path(workdir).expanduser().absolute()
    check_workdir(workdir)
    if workdir.is_dir():
        for entry in workdir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / MARK).write_text("made by tinyml-studio demo; a rerun clears this folder\n")
    except OSError as e:
        raise DemoError(f"{workdir}: cannot write ({e.strerror})") from None
    return workdir


def default_workdir() -> Path:
    """Where the window keeps its demo project (reused): the user's data folder."""
    return Path(platformdirs.user_data_dir("tinyml-studio")) / "demo"


def check_workdir(workdir: Path) -> None:
    """Raise ``DemoError`` for a folder the demo may not clear (before any work starts)."""
    if workdir.exists() and not workdir.is_dir():
        raise DemoError(f"{workdir}: not a folder")
    if workdir.is_dir() and any(workdir.iterdir()) and not (workdir / MARK).is_file():
        raise DemoError(f"{workdir}: not empty and not an earlier demo's folder; choose an empty or new folder")


def is_trained_demo(workdir: Path) -> bool:
    """Whether ``workdir`` holds a demo project with a trained run (the window can open on it as it is)."""
    return (Path(workdir) / MARK).is_file() and any((Path(workdir) / PROJECT / "runs").glob("*/metrics.json"))


# ---------------------------------------------------------------------------------------------- the job


def run(params: DemoParams, progress: ProgressLike) -> DemoReport:
    if params.until not in STAGES:
        raise DemoError(f"unknown stage {params.until!r} (one of {', '.join(STAGES)})")
    start = time.monotonic()
    workdir = prepare_workdir(params.workdir)
    report = DemoReport(str(workdir), str(workdir / PROJECT))
    last = "train" if params.until == "train" else "emulated board"
    spans = _SPANS if params.until == "deploy" else {k: (a / 0.55, b / 0.55) for k, (a, b) in _SPANS.items()
                                                      if b <= 0.55}

    def step(name: str, fn: Callable[[ProgressLike], str]) -> None:
        progress.check()
        begin = time.monotonic()
        a, b = spans[name]
        summary = fn(progress.span(a, b))
        report.steps[name] = round(time.monotonic() - begin, 2)
        progress.partial(StepDone(name, report.steps[name], summary))

    context: dict[str, Any] = {}
    step("project", lambda p: _create(workdir / PROJECT))
    step("capture", lambda p: _capture(params, workdir / PROJECT, report, p))
    step("impulse", lambda p: _impulse(workdir / PROJECT, report, p))
    step("train", lambda p: _train(params, workdir / PROJECT, report, context, p))
    if params.until == "deploy":
        step("test", lambda p: _test(workdir / PROJECT, context["run"], report, p))
        step("estimate", lambda p: _estimate(context["run"], report, p))
        step("export", lambda p: _export(context["run"], workdir, report, context))
        step("build", lambda p: _build(params, report, context, p))
        step("native program", lambda p: _native(context["run"], workdir, report, context, p))
        step("emulated board", lambda p: _emulated(params, context["run"], report, context, p))
    report.seconds = round(time.monotonic() - start, 2)
    progress.update(1.0, f"{last}: done in {report.seconds:.0f} s")
    return report


_SPANS = {"project": (0.0, 0.01), "capture": (0.01, 0.25), "impulse": (0.25, 0.3), "train": (0.3, 0.55),
          "test": (0.55, 0.6), "estimate": (0.6, 0.68), "export": (0.68, 0.7), "build": (0.7, 0.8),
          "native program": (0.8, 0.83), "emulated board": (0.83, 1.0)}


def _create(path: Path) -> str:
    with Project.create(path, "Gestures (demo)"):
        pass
    return f"created {path}"


class _Group:
    """Progress for jobs running side by side: the mean of their fractions; cancelling the parent cancels all."""

    def __init__(self, parent: ProgressLike, count: int, status: str) -> None:
        self.parent, self.fractions, self.status = parent, [0.0] * count, status
        self.lock = threading.Lock()

    def child(self, index: int) -> _Member:
        return _Member(self, index)

    def set(self, index: int, fraction: float) -> None:
        with self.lock:
            self.fractions[index] = fraction
            mean = sum(self.fractions) / len(self.fractions)
        self.parent.update(mean, self.status)


class _Member:
    def __init__(self, group: _Group, index: int) -> None:
        self.group, self.index = group, index

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        if fraction is not None:
            self.group.set(self.index, fraction)

    def partial(self, result: Any) -> None:
        pass

    @property
    def cancelled(self) -> bool:
        return self.group.parent.cancelled

    def check(self) -> None:
        self.group.parent.check()

    def span(self, start: float, end: float) -> _Member:
        return self


def _capture(params: DemoParams, project_dir: Path, report: DemoReport, progress: ProgressLike) -> str:
    people = [(p, "training") for p in range(params.training_people)]
    people += [(params.training_people + p, "testing") for p in range(params.testing_people)]
    plan = [(g, category, person, i) for person, category in people for i, g in enumerate(GESTURES)]
    group = _Group(progress, len(plan), f"recording {len(plan)} takes of {params.seconds:g} s from virtual boards")

    def record(index: int) -> capture.CaptureResult:
        gesture, category, person, g_index = plan[index]
        spec = capture.DeviceSpec(IN_PROCESS_VIRTUAL, frequency_hz=FREQUENCY_HZ, gesture=gesture,
                                  seed=params.seed * 1000 + 10 * person + g_index)
        job = capture.CaptureParams(project_dir, spec, gesture, params.seconds, category, save_truncated=False)
        return capture.run(job, group.child(index))

    with ThreadPoolExecutor(len(plan), thread_name_prefix="demo-capture") as pool:
        results = list(pool.map(record, range(len(plan))))
    short = [plan[i][0] for i, r in enumerate(results) if r.sample_id is None or r.truncated]
    if short:
        raise DemoError(f"virtual board: the recording of {', '.join(short)} ended early")
    frames = sum(r.frames for r in results)
    report.data = {"samples": len(results), "gestures": list(GESTURES), "frames": frames,
                   "seconds": round(frames / FREQUENCY_HZ, 1), "frequency_hz": FREQUENCY_HZ,
                   "training_people": params.training_people, "testing_people": params.testing_people,
                   "rejected_lines": sum(r.counters.get(k, 0) for r in results for k in ("garbage", "wrong_axes"))}
    return (f"{len(results)} recordings ({frames / FREQUENCY_HZ / 60:.1f} min at {FREQUENCY_HZ:g} Hz) of "
            f"{', '.join(GESTURES)} by {len(people)} people")


def _impulse(project_dir: Path, report: DemoReport, progress: ProgressLike) -> str:
    config = ImpulseConfig(2000, 200, "spectral")
    with Project.open(project_dir) as project:
        features.save_config(project, config)
    feature_set = features.run(features.FeatureParams(project_dir), progress)
    report.impulse = {"window_ms": config.window_ms, "stride_ms": config.stride_ms, "block": config.block,
                      "features": int(np.prod(feature_set.shape)), "windows": int(len(feature_set.features))}
    return (f"{config.window_ms:g} ms windows every {config.stride_ms:g} ms, spectral analysis: "
            f"{report.impulse['features']} features x {report.impulse['windows']} windows")


def _train(params: DemoParams, project_dir: Path, report: DemoReport, context: dict, progress: ProgressLike) -> str:
    result = train.run(train.TrainParams(project_dir, {"epochs": params.epochs}), progress)
    m = result.metrics
    context["run"] = result.run
    report.training = {"run": result.run.number, "float_accuracy": m["float"]["accuracy"],
                       "int8_accuracy": m["int8"]["accuracy"], "testing_windows": m["float"]["windows"],
                       "quantization": m["quantization"], "int8_model_bytes": m["int8"]["model_bytes"],
                       "parameters": m["architecture"]["params"], "epochs": m["epochs_trained"]}
    return (f"run {result.run.number}: float32 {m['float']['accuracy']:.1%}, int8 {m['int8']['accuracy']:.1%} "
            f"on {m['float']['windows']} testing windows; int8 model {m['int8']['model_bytes']:,} B")


def _test(project_dir: Path, run: Run, report: DemoReport, progress: ProgressLike) -> str:
    tested = classify.run(classify.TestParams(project_dir, run.number), progress)
    report.test = {"samples": len(tested.samples), "sample_accuracy": tested.sample_accuracy,
                   "float_accuracy": tested.float.get("accuracy"), "int8_accuracy": tested.int8.get("accuracy")}
    return f"{len(tested.samples)} testing samples: " + ", ".join(
        f"{kind} {acc:.0%}" for kind, acc in tested.sample_accuracy.items() if acc is not None)


def _estimate(run: Run, report: DemoReport, progress: ProgressLike) -> str:
    e = estimate.run(estimate.EstimateParams(get_board(BOARD), run=run, source=f"demo run {run.number}"), progress)
    report.estimate = {"board": BOARD, "name": e.board["name"], "core": e.core, "flash_bytes": e.flash["total"],
                       "ram_bytes": e.ram["total"], "latency_ms": e.latency, "energy_uj": e.energy_uj,
                       "verdicts": e.verdicts, "macs": e.macs, "modelled_instructions": e.instructions,
                       "counted_instructions": e.measured, "notes": e.notes}
    for kind, verdict in e.verdicts.items():
        if verdict == "does not fit":
            report.problems.append(f"{BOARD}: the impulse's {kind} does not fit")
    return (f"{e.board['name']}: flash {e.flash['total'] / 1024:.1f} KB, RAM {e.ram['total'] / 1024:.1f} KB, "
            f"{e.latency['total']:.2f} ms per window ({e.verdicts['flash']}, {e.verdicts['ram']})")


def _export(run: Run, workdir: Path, report: DemoReport, context: dict) -> str:
    for board in (BOARD, EMULATED):
        result = export_project(run, board, workdir / f"firmware-{board}", project_name="Gestures (demo)")
        context[board] = result
        report.exports[board] = {"path": str(result.path), "envs": result.envs, "files": len(result.files)}
    return ", ".join(f"{b}: {Path(x['path']).name} ({', '.join(x['envs'])})" for b, x in report.exports.items())


def _build(params: DemoParams, report: DemoReport, context: dict, progress: ProgressLike) -> str:
    core = Path(params.core_dir) if params.core_dir else default_core_dir()
    out = []
    for i, (board, env) in enumerate(((BOARD, "native"), (EMULATED, EMULATED))):
        built = build_project(context[board].path, env, core, progress=progress.span(i / 2, (i + 1) / 2))
        report.builds[env] = {"project": str(context[board].path), "seconds": round(built.seconds, 2),
                              "flash_bytes": built.flash.used if built.flash else None,
                              "ram_bytes": built.ram.used if built.ram else None}
        sizes = f", flash {built.flash.used:,} B, RAM {built.ram.used:,} B" if built.flash and built.ram else ""
        out.append(f"{env} in {built.seconds:.1f} s{sizes}")
    return "; ".join(out)


def testing_windows(run: Run) -> np.ndarray:
    """Every testing sample's windows, cut as the test job cuts them: (windows, frames, axes) float32."""
    return np.concatenate([windows for _, windows in run.windows("testing")]).astype(np.float32)


def _native(run: Run, workdir: Path, report: DemoReport, context: dict, progress: ProgressLike) -> str:
    program = native_program(context[BOARD].path)
    windows = testing_windows(run)
    path = workdir / "testing-windows.f32"
    windows.tofile(path)
    progress.update(0.1, f"running the host program on {len(windows)} testing windows")
    try:
        done = subprocess.run([str(program), "--windows", str(path)], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DemoError(f"{program}: {e}") from None
    if done.returncode != 0:
        raise DemoError(f"{program}: exit status {done.returncode}: {done.stderr.strip()[:200]}")
    results = [r for r in map(parse_line, done.stdout.splitlines()) if isinstance(r, ResultLine)]
    expected, step = agreement.expected_scores(run, windows)
    match = agreement.compare(results, expected, step, run.labels)
    report.native = match.to_dict()
    if not match.exact:
        report.problems.append(f"host program: {match.same_top} of {len(windows)} windows have Python's top class, "
                               f"worst score difference {match.worst_difference:.3g}")
    return (f"{match.same_top}/{len(windows)} testing windows with Python's top class, worst score difference "
            f"{match.worst_difference:.2g} (one int8 step is {step:.3g})")


def _emulated(params: DemoParams, run: Run, report: DemoReport, context: dict, progress: ProgressLike) -> str:
    elf = firmware_elf(context[EMULATED].path, EMULATED)
    seed = params.seed * 1000 + 10 * (params.training_people + params.testing_people)
    parts = [emulated.gesture_frames(g, params.live_seconds, FREQUENCY_HZ, seed=seed + i) for i, g in
             enumerate(GESTURES)]
    frames = np.concatenate(parts)
    progress.update(0.0, f"flashing the emulated board; streaming {len(GESTURES)} live gestures in real time")
    shown = emulated.run(emulated.EmulatedParams(elf, frames, FREQUENCY_HZ, realtime=True, axis_names=AXES), progress)
    f = run.framing
    windows = emulated.stream_windows(shown.sent, f.window_frames, f.stride_frames)
    expected, step = agreement.expected_scores(run, windows)
    match = agreement.compare(shown.results, expected, step, run.labels)
    recognised = _recognised(shown.results, len(parts[0]), f.window_frames, f.stride_frames)
    report.emulated = {"elf": str(elf), "frames": len(frames), "lines_sent": shown.lines_sent,
                       "windows_expected": shown.windows_expected, "results": len(shown.results),
                       "complete": shown.complete, "errors": [str(e) for e in shown.errors],
                       "seconds": round(shown.seconds, 2), "recognised": recognised, **match.to_dict()}
    if not shown.complete or not match.exact:
        report.problems.append(f"emulated board: {len(shown.results)} of {shown.windows_expected} windows answered, "
                               f"{match.same_top} with Python's top class")
    said = ", ".join(f"{g}->{recognised.get(g) or '?'}" for g in GESTURES)
    return (f"{len(shown.results)} live windows, {match.same_top} with Python's top class (worst score difference "
            f"{match.worst_difference:.2g}); the board said {said}")


def _recognised(results: list, segment: int, window: int, stride: int) -> dict[str, str]:
    """The class the board named most often for each gesture, over windows lying wholly inside its segment."""
    out: dict[str, str] = {}
    for i, gesture in enumerate(GESTURES):
        tops = [r.top for k, r in enumerate(results) if k * stride >= i * segment and k * stride + window <=
                (i + 1) * segment]
        if tops:
            out[gesture] = max(set(tops), key=tops.count)
    return out
