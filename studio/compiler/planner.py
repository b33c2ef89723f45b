"""Static memory planning: every activation tensor and kernel scratch buffer gets an offset in
one arena. Buffers whose lifetimes do not overlap share memory; an op's output may overlap its
input where the kernel never writes over input it still has to read (elementwise ops in place,
sliding windows a few rows ahead). Greedy by size, as TFLM's planner, plus those overlaps."""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.compiler.lower import Step
from studio.compiler.tflite_model import Graph

ALIGN = 4


@dataclass
class Buffer:
    key: str
    size: int
    first: int
    last: int
    tensors: list[int] = field(default_factory=list)
    offset: int = -1
    # (other buffer key, relation): "out_of" means this buffer is the output of an op reading
    # ``other`` and may start up to ``gap`` bytes before it; "in_of" the converse.
    overlaps: list[tuple[str, str, int]] = field(default_factory=list)


@dataclass
class Plan:
    arena: int
    offsets: dict[int, int]  # tensor index -> arena offset
    scratch: dict[int, int]  # step position -> arena offset of its scratch
    buffers: list[Buffer]


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def plan(graph: Graph, steps: list[Step]) -> Plan:
    root: dict[int, int] = {}

    def find(t: int) -> int:
        while root.get(t, t) != t:
            t = root[t]
        return t

    for step in steps:
        if step.kernel == "alias":
            root[find(step.output)] = find(step.inputs[0])

    end = len(steps)
    buffers: dict[str, Buffer] = {}

    def touch(tensor: int, when: int) -> None:
        t = graph.tensor(tensor)
        if t.data is not None:
            return
        key = f"t{find(tensor)}"
        b = buffers.get(key)
        if b is None:
            b = buffers[key] = Buffer(key, _aligned(t.nbytes), when, when)
        b.size = max(b.size, _aligned(t.nbytes))
        b.first, b.last = min(b.first, when), max(b.last, when)
        if tensor not in b.tensors:
            b.tensors.append(tensor)

    for t in graph.inputs:
        touch(t, -1)
    for pos, step in enumerate(steps):
        for t in step.inputs:
            touch(t, pos)
        touch(step.output, pos)
        if step.scratch:
            buffers[f"s{pos}"] = Buffer(f"s{pos}", _aligned(step.scratch), pos, pos)
    for t in graph.outputs:
        touch(t, end)

    for pos, step in enumerate(steps):
        if step.kernel == "alias":
            continue
        out = buffers[f"t{find(step.output)}"]
        for t, gap in step.in_place.items():
            src = buffers.get(f"t{find(t)}")
            if src is None or src is out or src.last != pos or out.first != pos:
                continue
            out.overlaps.append((src.key, "out_of", gap))
            src.overlaps.append((out.key, "in_of", gap))

    best: tuple[int, dict[str, int]] | None = None
    for reserve in (True, False):
        offsets = _greedy(list(buffers.values()), reserve)
        size = max((offsets[b.key] + b.size for b in buffers.values()), default=0)
        if best is None or size < best[0]:
            best = (size, offsets)
    assert best is not None
    placed = sorted(buffers.values(), key=lambda b: best[1][b.key])
    for b in placed:
        b.offset = best[1][b.key]
    offsets = {t: b.offset for b in placed for t in b.tensors}
    for t, r in ((t, find(t)) for t in list(root)):
        if f"t{r}" in buffers:
            offsets[t] = buffers[f"t{r}"].offset
    scratch = {int(b.key[1:]): b.offset for b in placed if b.key.startswith("s")}
    return Plan(_aligned(best[0]), offsets, scratch, placed)


def _greedy(buffers: list[Buffer], reserve: bool) -> dict[str, int]:
    """Largest first, each at the lowest offset that conflicts with nothing live at the same time.
    With ``reserve``, an op input also keeps free the bytes below it where its output may start."""
    by_key = {b.key: b for b in buffers}
    for b in buffers:
        b.offset = -1
    placed: list[Buffer] = []
    for b in sorted(buffers, key=lambda b: (-b.size, b.first, b.key)):
        b.offset = _place(b, placed, by_key if reserve else None)
        placed.append(b)
    return {b.key: b.offset for b in buffers}


def _allowed(b: Buffer, offset: int, p: Buffer) -> bool:
    if offset + b.size <= p.offset or p.offset + p.size <= offset:
        return True
    for key, relation, gap in b.overlaps:
        if key != p.key:
            continue
        if relation == "out_of" and offset <= p.offset - gap:
            return True
        if relation == "in_of" and p.offset <= offset - gap:
            return True
    return False


def _place(b: Buffer, placed: list[Buffer], reserve_for: dict[str, Buffer] | None) -> int:
    live = [p for p in placed if p.first <= b.last and b.first <= p.last]
    candidates = {0}
    for p in live:
        candidates.add(_aligned(p.offset + p.size))
        for key, relation, gap in b.overlaps:
            if key == p.key:
                if relation == "in_of":
                    candidates.add(_aligned(p.offset + gap))
                elif p.offset - gap >= 0:
                    candidates.add((p.offset - gap) // ALIGN * ALIGN)
    reserved = []
    if reserve_for is not None:
        for key, relation, gap in b.overlaps:
            q = reserve_for[key]
            if relation == "in_of" and q.offset < 0 and gap > 0:
                reserved.append((q, gap))
                candidates.add(_aligned(gap))
                candidates.update(_aligned(p.offset + p.size + gap) for p in placed)
    for offset in sorted(candidates):
        if offset % ALIGN or offset < 0 or not all(_allowed(b, offset, p) for p in live):
            continue
        if all(_room_below(offset, gap, q, placed) for q, gap in reserved):
            return offset
    for offset in sorted(candidates):  # no room to reserve: place it anyway
        if offset % ALIGN == 0 and offset >= 0 and all(_allowed(b, offset, p) for p in live):
            return offset
    raise AssertionError("no offset found")  # the largest candidate is always free


def _room_below(offset: int, gap: int, q: Buffer, placed: list[Buffer]) -> bool:
    """Whether [offset - gap, offset) is free of everything live while ``q`` is."""
    lo = offset - gap
    if lo < 0:
        return False
    return all(p.offset + p.size <= lo or p.offset >= offset for p in placed
               if p.first <= q.last and q.first <= p.last and p is not q)
