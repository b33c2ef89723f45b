"""The estimate of an impulse (or a lone int8 model) on a board: per layer MACs, bytes and
modelled time; flash and RAM measured on a real cross-compiled image; the DSP's instructions
counted on the emulated core; energy per inference; verdicts against the board's memories.

A job: ``run(EstimateParams, progress) -> Estimate``; no Qt."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from studio.boards import Board, BoardError, load_boards
from studio.boards.drivers import SERIAL, RateError, pick_driver, sensor_rate
from studio.boards.serial_link import serial_link
from studio.compiler import CompileError, compile_model
from studio.compiler.tflm_arena import minimum_arena
from studio.cortexm import CortexMError
from studio.errors import StudioError
from studio.estimate.cost_model import CORE_BASIS, CostModelError, costs_for
from studio.estimate.image import probe
from studio.impulse_c import ImpulseCError, render_for_run
from studio.jobs import ProgressLike
from studio.learn.runs import Run

TIGHT = 0.8  # share of a memory above which the verdict is "tight"


class EstimateError(StudioError):
    pass


@dataclass
class LayerRow:
    index: int
    op: str
    input_shape: list[int]
    output_shape: list[int]
    macs: int
    weight_bytes: int
    activation_bytes: int  # input and output tensors
    instructions: int
    cycles: int
    ms: float


@dataclass
class Estimate:
    board: dict[str, Any]
    core: str  # the emulated core whose code and counts are used
    modelled: str | None  # what is modelled rather than compiled for the board's own core
    cpi: float
    cpi_source: str
    layers: list[LayerRow]
    flash: dict[str, int]  # by part; "total"
    ram: dict[str, int]  # by part; "total"
    latency: dict[str, float]  # ms: "dsp", "network", "io" (quantising features, scores), "anomaly", "total"
    instructions: dict[str, int]  # modelled network; counted DSP, io, anomaly
    measured: dict[str, int] = field(default_factory=dict)  # instructions counted on the emulated core
    macs: int = 0
    energy_uj: float | None = None
    limits: dict[str, int | None] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    tflm_arena: int | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)
    # where the board's frames come from: its sensor at a rate, or the serial port with what it carries
    input: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(flash_bytes=self.flash["total"], ram_bytes=self.ram["total"], latency_ms=self.latency["total"])
        return d

    def battery_hours(self, capacity_mah: float, per_second: float) -> float | None:
        """Battery life running ``per_second`` inferences a second, in deep sleep in between; None when
        the board cannot keep up or has no current figures."""
        b = self.board
        if not b.get("active_current_ma") or b.get("sleep_current_ua") is None or per_second <= 0:
            return None
        duty = per_second * self.latency["total"] / 1000.0
        if duty >= 1.0:
            return None
        average_ma = duty * b["active_current_ma"] + (1.0 - duty) * b["sleep_current_ua"] / 1000.0
        return capacity_mah / average_ma


def verdict(used: int, limit: int | None) -> str:
    if not limit:
        return "no limit"
    if used > limit:
        return "does not fit"
    return "tight" if used > TIGHT * limit else "fits"


def can_estimate(board: Board) -> bool:
    """Whether the latency model covers the board's core (it has none for the host computer's)."""
    return board.core in CORE_BASIS


def not_estimable(board: Board) -> str:
    """The one line saying that ``board`` cannot be estimated, and which boards can."""
    try:
        ids = [b.id for b in load_boards() if can_estimate(b)]
    except BoardError:
        ids = []
    which = f"; boards that can be estimated: {', '.join(ids)}" if ids else ""
    return f"{board.id}: no latency model for core {board.core!r}{which}"


def board_summary(board: Board) -> dict[str, Any]:
    keys = ("id", "name", "mcu", "core", "clock_mhz", "flash_kb", "ram_kb", "program", "supply_voltage_v",
            "active_current_ma", "sleep_current_ua", "virtual")
    return {k: getattr(board, k) for k in keys}


def frame_source(board: Board, run: Run, notes: list[str]) -> dict[str, Any]:
    """How the exported firmware gets its frames on ``board``: the sensor (and the rate it runs at) or the
    serial port (and how many frames a second it carries); what the user should know goes to ``notes``."""
    fs, axes, audio = run.framing.frequency_hz, run.axes, run.framing.kind == "audio"
    driver, why = pick_driver(board, audio, axes)
    if driver is SERIAL:
        link = serial_link(board, fs, axes, audio)
        notes.append(f"{why}; {link.note()}")
        return {"source": "serial", "baud": link.baud, "frames_per_s": fs, "carried_per_s": link.carried_per_s,
                "keeps_up": link.keeps_up}
    try:
        rate = sensor_rate(driver, fs)
    except RateError as e:
        notes.append(f"{board.id}: {e}")
        return {"source": driver.id, "frames_per_s": fs, "sensor_hz": None, "keeps_up": False}
    if rate is not None and rate.note:
        notes.append(rate.note)
    return {"source": driver.id, "frames_per_s": fs, "sensor_hz": rate.hz if rate else None, "keeps_up": True}


@dataclass
class EstimateParams:
    board: Board
    model: bytes | None = None  # a lone int8 model ...
    run: Run | None = None  # ... or a training run with its impulse
    source: str = "model"
    tflm: bool = False  # also measure TFLM's minimum arena (a bisection in subprocesses)
    work: Path | None = None  # keep the generated sources and images here


def run(params: EstimateParams, progress: ProgressLike) -> Estimate:
    with tempfile.TemporaryDirectory(prefix="estimate-") as tmp:
        work = params.work or Path(tmp)
        return _estimate(params, work, progress)


def _estimate(params: EstimateParams, work: Path, progress: ProgressLike) -> Estimate:
    board = params.board
    if not can_estimate(board):
        raise EstimateError(not_estimable(board))
    try:
        costs = costs_for(board.core)
    except CostModelError as e:
        raise EstimateError(f"{board.id}: {e}") from None
    if params.run is not None:
        model = params.run.model_bytes("int8")
        labels = params.run.labels
        source = params.source if params.source != "model" else f"run {params.run.number}"
    elif params.model is not None:
        model, labels, source = params.model, None, params.source
    else:
        raise EstimateError("nothing to estimate: give a model or a training run")
    progress.update(0.05, "compiling the model")
    src = work / "src"
    try:
        compiled = compile_model(model, src, prefix="model", labels=labels or None, source=source)
    except CompileError as e:
        raise EstimateError(str(e)) from None
    impulse = params.run is not None
    if impulse:
        try:
            render_for_run(params.run, src, model_prefix="model")
        except ImpulseCError as e:
            raise EstimateError(f"{source}: {e}") from None
    progress.check()
    clock_hz = (board.clock_mhz or 0) * 1e6
    layers, network_instructions = [], 0
    graph = compiled.graph
    for step in compiled.steps:
        if step.kernel == "alias":
            continue
        n = int(round(costs.instructions_for(step)))
        network_instructions += n
        cycles = int(round(n * costs.cpi))
        t_in = graph.tensor(step.inputs[0])
        t_out = graph.tensor(step.output)
        activation = sum(graph.tensor(i).nbytes for i in step.inputs if graph.tensor(i).data is None) + t_out.nbytes
        layers.append(LayerRow(step.op.index, step.op.kind, list(t_in.shape), list(t_out.shape), step.macs,
                               step.weight_bytes, activation, n, cycles, cycles / clock_hz * 1e3 if clock_hz else 0.0))
    progress.update(0.2, f"building for {costs.core}")
    sources = sorted(src.glob("*.c"))
    try:
        measured = probe(src, sources, costs.core, work / "probe", impulse=impulse)
    except (CortexMError, RuntimeError) as e:
        raise EstimateError(f"{source} on {costs.core}: {e}") from None
    progress.update(0.7, "measured")
    progress.check()
    dsp_instr = measured.dsp_instructions or 0
    anomaly_instr = (measured.anomaly_instructions or 0) if impulse and params.run.anomaly else 0
    io_instr = 0
    if impulse:  # quantising the features and dequantising the scores, around the network
        io_instr = (measured.pipeline_instructions or 0) - dsp_instr - (measured.network_instructions or 0)
    ms = (lambda n: n * costs.cpi / clock_hz * 1e3) if clock_hz else (lambda n: 0.0)
    latency = {"dsp": ms(dsp_instr), "network": ms(network_instructions), "io": ms(io_instr),
               "anomaly": ms(anomaly_instr)}
    latency["total"] = sum(latency.values())
    weights = compiled.weight_bytes
    model_flash = measured.flash.get("model", 0)
    # parts from the linker map; the C library is the rest of the linked images' difference (the map
    # lists merged constants before merging and leaves alignment fill unattributed)
    flash = {"weights": weights, "model code": model_flash - weights, "dsp": measured.flash.get("dsp", 0),
             "caller": measured.flash.get("caller", 0)}
    flash["library"] = measured.flash_total - sum(flash.values())
    flash["total"] = measured.flash_total
    ram = {"arena": compiled.arena_bytes, "model other": measured.ram.get("model", 0) - compiled.arena_bytes,
           "dsp buffers": measured.ram.get("dsp", 0), "window and io buffers": measured.ram.get("caller", 0)}
    ram["library"] = measured.ram_total - sum(ram.values())
    ram["stack"] = measured.stack
    ram["total"] = measured.ram_total + measured.stack
    estimate = Estimate(
        board=board_summary(board), core=costs.core, modelled=costs.modelled, cpi=costs.cpi,
        cpi_source=costs.cpi_source, layers=layers, flash=flash, ram=ram, latency=latency,
        instructions={"network": network_instructions, "dsp": dsp_instr, "io": io_instr,
                      "anomaly": anomaly_instr},
        measured={"network": measured.network_instructions or 0, "dsp": dsp_instr, "io": io_instr,
                  "anomaly": anomaly_instr, "pipeline": measured.pipeline_instructions or 0},
        macs=compiled.macs, source=source)
    estimate.limits = {"flash_bytes": board.program_flash_bytes, "ram_bytes": board.program_ram_bytes}
    estimate.verdicts = {"flash": verdict(flash["total"], estimate.limits["flash_bytes"]),
                         "ram": verdict(ram["total"], estimate.limits["ram_bytes"])}
    if board.active_current_ma and board.supply_voltage_v:
        estimate.energy_uj = latency["total"] * board.supply_voltage_v * board.active_current_ma
    if impulse and not board.virtual:
        estimate.input = frame_source(board, params.run, estimate.notes)
    if costs.modelled:
        estimate.notes.append(f"{board.core}: {costs.modelled}")
    if not clock_hz:
        estimate.notes.append(f"{board.id} has no clock frequency: no times")
    if params.tflm:
        progress.update(0.75, "measuring TFLM's minimum arena")
        try:
            estimate.tflm_arena = minimum_arena(model)
        except (ValueError, OSError, subprocess.SubprocessError) as e:
            estimate.notes.append(f"TFLM's arena could not be measured: {e}")
    progress.update(1.0, "done")
    return estimate
