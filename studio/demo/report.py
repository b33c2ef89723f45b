"""The demo's report as the few lines the command prints."""

from __future__ import annotations

from studio.demo.flow import DemoReport


def _kb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1024:.1f} KB"


def text(report: DemoReport) -> list[str]:
    lines = [f"TinyML Studio demo in {report.workdir} ({report.seconds:.0f} s)"]
    d = report.data
    if d:
        lines.append(f"  data       {d['samples']} recordings from virtual boards, {d['seconds'] / 60:.1f} min at "
                     f"{d['frequency_hz']:g} Hz ({d['training_people']} people training, {d['testing_people']} "
                     f"testing)")
    i = report.impulse
    if i:
        lines.append(f"  impulse    {i['window_ms']:g} ms windows, stride {i['stride_ms']:g} ms, {i['block']}: "
                     f"{i['features']} features")
    t = report.training
    if t:
        lines.append(f"  accuracy   float32 {t['float_accuracy']:.1%}, int8 {t['int8_accuracy']:.1%} "
                     f"({t['quantization']}) on {t['testing_windows']} testing windows; int8 model "
                     f"{t['int8_model_bytes']:,} B")
    e = report.estimate
    if e:
        lat = e["latency_ms"]
        lines.append(f"  estimate   {e['name']}: flash {_kb(e['flash_bytes'])} ({e['verdicts']['flash']}), RAM "
                     f"{_kb(e['ram_bytes'])} ({e['verdicts']['ram']}), {lat['total']:.2f} ms per window (DSP "
                     f"{lat['dsp']:.2f}, network {lat['network']:.2f})")
        c, m = e["counted_instructions"], e["modelled_instructions"]
        lines.append(f"  measured   {c['pipeline']:,} instructions per window on the emulated {e['core']} (DSP "
                     f"{c['dsp']:,}, network {c['network']:,}; the latency model says {m['network']:,})")
    for env, b in report.builds.items():
        sizes = f": flash {b['flash_bytes']:,} B, RAM {b['ram_bytes']:,} B" if b["flash_bytes"] else ""
        lines.append(f"  build      {env} in {b['seconds']:.1f} s{sizes}")
    n = report.native
    if n:
        lines.append(f"  host       {n['same_top']}/{n['windows']} testing windows agree with Python "
                     f"(worst score difference {n['worst_difference']:.2g})")
    v = report.emulated
    if v:
        said = ", ".join(f"{g}->{top}" for g, top in v["recognised"].items())
        lines.append(f"  board      {v['same_top']}/{v['windows']} live windows agree with Python on the emulated "
                     f"board (worst score difference {v['worst_difference']:.2g}); {said}")
    lines.append("  result     " + ("every step passed" if report.ok else "; ".join(report.problems)))
    return lines
