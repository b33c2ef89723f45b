"""Renders the lowered, planned model as ``<prefix>.h`` and ``<prefix>.c`` from project_templates/model."""

from __future__ import annotations

from typing import Any

from studio.c_literals import c_array, c_comment, c_float, c_int, c_string
from studio.code_templates import code_environment
from studio.compiler.lower import Step
from studio.compiler.planner import Plan
from studio.compiler.tflite_model import Graph


def _scalar(value: object) -> str:
    return c_float(value) if isinstance(value, float) else c_int(value)


def _operand(graph: Graph, plan: Plan, step: Step, tensor: int) -> str:
    t = graph.tensor(tensor)
    if t.data is not None:
        suffix = f"operand{step.inputs.index(tensor)}"
        return next(c.name for c in step.consts if not c.in_struct and c.name.endswith(suffix))
    return f"a + {plan.offsets[tensor]}"


def render(graph: Graph, steps: list[Step], plan: Plan, prefix: str, labels: list[str],
           info: dict[str, Any]) -> dict[str, str]:
    """Returns {file name: text}; the caller writes them."""
    consts, calls = [], []
    for pos, step in enumerate(steps):
        if step.kernel == "alias":
            continue
        for c in step.consts:
            body = c_array(c.values, "float" if c.ctype == "float" else "int", per_line=24)
            consts.append({"ctype": c.ctype, "name": c.name, "count": c.values.size, "body": body})
        init = [_scalar(v) for _, v in step.fields] + [c.name for c in step.consts if c.in_struct]
        args = [f"&op{pos}"] + [_operand(graph, plan, step, t) for t in step.inputs]
        args.append(f"a + {plan.offsets[step.output]}")
        if step.scratch:
            cast = {"tms_conv": "uint32_t", "tms_fc": "uint32_t"}.get(step.kernel, "int32_t")
            args.append(f"({cast} *)(void *)(a + {plan.scratch[pos]})")
        args += step.extra_args
        t_out = graph.tensor(step.output)
        comment = c_comment(f"{step.op.index} {step.op.kind} -> {list(t_out.shape)}")
        calls.append({"struct": step.struct, "position": pos, "init": ", ".join(init),
                      "call": f"{step.kernel}({', '.join(args)})", "comment": comment})
    context = dict(info)
    context.update(prefix=prefix, PREFIX=prefix.upper(), consts=consts, calls=calls,
                   labels=[c_string(label) for label in labels], steps=calls,
                   uses_float=any(s.kernel == "tms_softmax" for s in steps),
                   kernels={s.kernel for s in steps})
    env = code_environment("model")
    return {f"{prefix}.h": env.get_template("model.h.j2").render(context),
            f"{prefix}.c": env.get_template("model.c.j2").render(context)}
