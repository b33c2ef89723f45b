"""The model compiler's entry point: a full-integer int8 ``.tflite`` in, ``<prefix>.h/.c`` out."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from studio import __version__
from studio.c_literals import CSourceError, c_comment, c_float, c_identifier, c_string
from studio.compiler.emit import render
from studio.compiler.errors import CompileError
from studio.compiler.fold import check_io, simplify
from studio.compiler.lower import Step, lower
from studio.compiler.planner import plan
from studio.compiler.tflite_model import Graph, read
from studio.fsutil import atomic_write_text


@dataclass
class LayerReport:
    index: int
    op: str
    output_shape: list[int]
    macs: int
    weight_bytes: int
    scratch_bytes: int


@dataclass
class CompileResult:
    files: list[Path]
    prefix: str
    ops: dict[str, int]
    layers: list[LayerReport]
    macs: int
    arena_bytes: int
    weight_bytes: int
    input: dict[str, Any]
    output: dict[str, Any]
    labels: list[str] = field(default_factory=list)
    # the parsed graph and its kernel calls, for callers that look further (the estimator); not reported
    graph: Graph | None = field(default=None, repr=False, compare=False)
    steps: list[Step] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, graph=None, steps=[]))  # not copied into the report
        del d["graph"], d["steps"]
        d["files"] = [str(p) for p in self.files]
        return d


def _io(graph: Graph, index: int, offset: int) -> dict[str, Any]:
    t = graph.tensor(index)
    return {"shape": list(t.shape), "size": t.size, "scale": t.single_scale(), "zero_point": t.single_zero_point(),
            "offset": offset, "name": t.name}


def build(model: bytes, source: str = "model") -> tuple[Graph, list[Step]]:
    """Parse, simplify and lower; raises CompileError listing every problem."""
    graph = simplify(read(model, source))
    check_io(graph)
    return graph, lower(graph)


def compile_model(model: bytes, out_dir: Path, prefix: str = "model", labels: list[str] | None = None,
                  source: str = "model") -> CompileResult:
    labels = [str(x) for x in (labels or [])]
    try:
        c_identifier(prefix, "prefix")
        for label in labels:
            c_string(label)
    except CSourceError as e:
        raise CompileError(source, [str(e)]) from None
    graph, steps = build(model, source)
    memory = plan(graph, steps)
    t_out = graph.tensor(graph.outputs[0])
    if labels and len(labels) != t_out.size:
        raise CompileError(source, [f"{len(labels)} labels for {t_out.size} outputs"])
    real = [s for s in steps if s.kernel != "alias"]
    ops = Counter(s.op.kind for s in steps)
    info = {
        "version": __version__,
        "source_comment": c_comment(source),
        "op_summary": ", ".join(f"{k} x{v}" for k, v in sorted(ops.items())),
        "macs": sum(s.macs for s in real),
        "weight_bytes": sum(s.weight_bytes for s in real),
        "arena": memory.arena,
        "input": _io(graph, graph.inputs[0], memory.offsets[graph.inputs[0]]),
        "output": _io(graph, graph.outputs[0], memory.offsets[graph.outputs[0]]),
    }
    for key in ("input", "output"):
        info[key] = dict(info[key], scale=c_float(info[key]["scale"]))
    texts = render(graph, steps, memory, prefix, labels, info)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in texts.items():
        path = out_dir / name
        atomic_write_text(path, text)
        files.append(path)
    layers = [LayerReport(s.op.index, s.op.kind, list(graph.tensor(s.output).shape), s.macs, s.weight_bytes,
                          s.scratch) for s in steps]
    return CompileResult(files, prefix, dict(ops), layers, info["macs"], memory.arena, info["weight_bytes"],
                         _io(graph, graph.inputs[0], memory.offsets[graph.inputs[0]]),
                         _io(graph, graph.outputs[0], memory.offsets[graph.outputs[0]]), labels, graph, steps)
