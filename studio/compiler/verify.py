"""Checks compiled models against LiteRT's reference kernels: builds a harness around one or more
compiled models, on the host with gcc or for an emulated Cortex-M board, and runs it on inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.code_templates import code_environment
from studio.cortexm import build_elf, build_host, run

INPUTS, OUTPUTS = "inputs.bin", "outputs.bin"


@dataclass(frozen=True)
class Compiled:
    directory: Path
    prefix: str
    input_size: int
    output_size: int


def reference_outputs(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """int8 outputs of LiteRT with the reference (BUILTIN_REF) kernels, one row per input."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    rows = []
    for x in inputs:
        interp.set_tensor(inp["index"], np.asarray(x, np.int8).reshape(inp["shape"]))
        interp.invoke()
        rows.append(interp.get_tensor(out["index"]).reshape(-1).copy())
    return np.asarray(rows, np.int8)


def write_harness(work: Path, models: list[Compiled], runs: int, baremetal: bool) -> Path:
    text = code_environment("model").get_template("harness.c.j2").render(
        models=[{"prefix": m.prefix, "PREFIX": m.prefix.upper()} for m in models], runs=runs, baremetal=baremetal,
        inputs=INPUTS, outputs=OUTPUTS)
    path = work / "harness.c"
    path.write_text(text)
    return path


def write_inputs(work: Path, models: list[Compiled], inputs: list[np.ndarray]) -> int:
    runs = {len(x) for x in inputs}
    if len(runs) != 1:
        raise ValueError("every model needs the same number of inputs")
    blob = b"".join(np.asarray(x, np.int8).reshape(len(x), m.input_size).tobytes() for m, x in zip(models, inputs,
                                                                                                   strict=True))
    (work / INPUTS).write_bytes(blob)
    return runs.pop()


def read_outputs(work: Path, models: list[Compiled], runs: int) -> list[np.ndarray]:
    data = np.frombuffer((work / OUTPUTS).read_bytes(), np.int8)
    out, at = [], 0
    for m in models:
        n = runs * m.output_size
        out.append(data[at : at + n].reshape(runs, m.output_size))
        at += n
    return out


def run_host(work: Path, models: list[Compiled], inputs: list[np.ndarray], defines: tuple[str, ...] = (),
             opt: str = "-O2") -> list:
    """Outputs of the compiled models built with the host gcc, one array per model."""
    import subprocess


    work.mkdir(parents=True, exist_ok=True)
    runs = write_inputs(work, models, inputs)
    harness = write_harness(work, models, runs, baremetal=False)
    sources = [harness, *(m.directory / f"{m.prefix}.c" for m in models)]
    exe = build_host(sources, work / "harness", include_dirs=sorted({m.directory for m in models}), defines=defines,
                     opt=opt)
    done = subprocess.run([str(exe)], cwd=work, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{exe}: exit {done.returncode}: {done.stdout.strip()} {done.stderr.strip()}")
    return read_outputs(work, models, runs)


@dataclass
class BoardRun:
    outputs: list[np.ndarray]
    instructions: list[int]  # per inference, in run order
    stack_bytes: int
    elf: Path
    # with ``op_counts``: per model, per inference, the instructions of each kernel call
    op_instructions: list[list[list[int]]] | None = None


def run_board(work: Path, models: list[Compiled], inputs: list[np.ndarray], core: str = "cortex-m4",
              simd: bool = True, count: bool = False, timeout: float = 600.0,
              op_counts: list[int] | None = None) -> BoardRun:
    """Outputs (and instructions per inference when ``count``) on an emulated Cortex-M board.
    ``op_counts`` (the kernel calls of each model) also counts every call on its own."""
    work.mkdir(parents=True, exist_ok=True)
    runs = write_inputs(work, models, inputs)
    harness = write_harness(work, models, runs, baremetal=True)
    sources = [harness, *(m.directory / f"{m.prefix}.c" for m in models)]
    defines = [] if simd else [f"{m.prefix.upper()}_NO_SIMD" for m in models]
    if op_counts is not None:
        defines += [f"{m.prefix.upper()}_OP_HOOK(i)=baremetal_mark()" for m in models]
    # -Werror: generated code must build without a warning (unused kernels, types) on every core
    elf = build_elf(sources, work / "harness.elf", core, include_dirs=sorted({m.directory for m in models}),
                    defines=tuple(defines), extra_flags=("-Werror",))
    result = run(elf, core, cwd=work, count_marks=count or op_counts is not None, timeout=timeout)
    if result.exit_code != 0:
        raise RuntimeError(f"{elf} on {core}: exit {result.exit_code}: {result.fault or result.stdout.strip()}")
    stack = next((int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("stack ")), 0)
    deltas = result.mark_deltas
    if op_counts is None:
        return BoardRun(read_outputs(work, models, runs), deltas[1::2] if count else [], stack, elf)
    # marks: the zero, then per inference: before, one per kernel call, after
    per_model, instructions, at = [], [], 1
    for n in op_counts:
        rows = []
        for _ in range(runs):
            calls = deltas[at : at + n]
            rows.append(calls)
            instructions.append(sum(calls) + deltas[at + n])
            at += n + 2
        per_model.append(rows)
    return BoardRun(read_outputs(work, models, runs), instructions, stack, elf, per_model)
