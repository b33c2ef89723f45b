"""Renders the lowered, planned model as ``<prefix>.h`` and ``<prefix>.c`` from project_templates/model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from studio.compiler.c_text import array_body, float_literal, string_literal
from studio.compiler.lower import Step
from studio.compiler.planner import Plan
from studio.compiler.tflite_model import Graph
from studio.paths import project_templates_dir


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(project_templates_dir() / "model")),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                              lstrip_blocks=True, autoescape=False)


def _scalar(value: object) -> str:
    if isinstance(value, float):
        return float_literal(value)
    return str(int(value)) if int(value) != -(2**31) else "(-2147483647 - 1)"


def _operand(graph: Graph, plan: Plan, step: Step, tensor: int) -> str:
    t = graph.tensor(tensor)
    if t.data is not None:
        suffix = f"operand{step.inputs.index(tensor)}"
        return next(c.name for c in step.consts if not c.in_struct and c.name.endswith(suffix))
    return f"a + {plan.offsets[tensor]}"


def render(graph: Graph, steps: list[Step], plan: Plan, prefix: str, labels: list[str], info: dict[str, Any],
           out_dir: Path) -> dict[str, str]:
    """Returns {file name: text}; the caller writes them."""
    consts, calls = [], []
    for pos, step in enumerate(steps):
        if step.kernel == "alias":
            continue
        for c in step.consts:
            body = array_body(c.values, c.ctype)
            consts.append({"ctype": c.ctype, "name": c.name, "count": c.values.size, "body": body})
        init = [_scalar(v) for _, v in step.fields] + [c.name for c in step.consts if c.in_struct]
        args = [f"&op{pos}"] + [_operand(graph, plan, step, t) for t in step.inputs]
        args.append(f"a + {plan.offsets[step.output]}")
        if step.scratch:
            cast = {"tms_conv": "int16_t", "tms_fc": "int16_t"}.get(step.kernel, "int32_t")
            args.append(f"({cast} *)(void *)(a + {plan.scratch[pos]})")
        args += step.extra_args
        t_out = graph.tensor(step.output)
        comment = f"{step.op.index} {step.op.kind} -> {list(t_out.shape)}".replace("*/", "* /")
        calls.append({"struct": step.struct, "position": pos, "init": ", ".join(init),
                      "call": f"{step.kernel}({', '.join(args)})", "comment": comment})
    context = dict(info)
    context.update(prefix=prefix, PREFIX=prefix.upper(), consts=consts, calls=calls,
                   labels=[string_literal(label) for label in labels], steps=calls,
                   uses_float=any(s.kernel == "tms_softmax" for s in steps),
                   kernels={s.kernel for s in steps})
    env = _environment()
    return {f"{prefix}.h": env.get_template("model.h.j2").render(context),
            f"{prefix}.c": env.get_template("model.c.j2").render(context)}
