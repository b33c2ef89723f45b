"""The impulse in C: every DSP block rendered, compiled with the host gcc and compared with the Python
block on motion and audio windows; the labels' escaping; run_impulse's quantisation around a stand-in
model; a Cortex-M4F build that calls no double-precision code; the whole pipeline (impulse and compiled
int8 model) against the test job on every testing window of the default motion and keyword projects.

Tolerances (docs/dsp-blocks.md, "In C"): features normalised onto [0, 1] (MFE, spectrogram) within
1e-3 absolute; the others within 1e-3 of each feature's scale, max(1, max |feature| over the windows),
except spectral dB features at float32's noise floor (FLOAT32_DEPTH_DB under the strongest of their
axis), which only have to stay there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import have
from scipy import signal

from studio.dataset.synthetic import background, speak
from studio.devices.gestures import GESTURES, G, GestureSynth
from studio.dsp.registry import Configured, get_block
from studio.impulse_c import ImpulseCError, c_string, render_for_run, render_impulse
from studio.learn.anomaly import AnomalyModel
from studio.learn.runs import Run

pytestmark = pytest.mark.skipif(not have("gcc"), reason="gcc (the host C compiler) is not installed")

GCC = ["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion", "-Wfloat-conversion"]
TOLERANCE = 1e-3
FLOAT32_DEPTH_DB = 100.0
EXTERNS = ("impulse_features", "impulse_labels", "impulse_anomaly", "run_impulse")


@dataclass(frozen=True)
class Case:
    id: str
    block: str
    params: dict
    fs: float
    frames: int
    axes: int
    normalised: bool = False
    anomaly: bool = False


CASES = [
    Case("raw-motion", "raw", {"scale": 0.5}, 100.0, 200, 3),
    Case("flatten-motion", "flatten", {}, 100.0, 200, 3, anomaly=True),
    Case("flatten-some-stats-6-axes", "flatten", {"min": False, "rms": False, "skewness": False, "scale": 0.1},
         100.0, 200, 6),
    Case("flatten-min-max-rms", "flatten", {"mean": False, "stdev": False, "skewness": False, "kurtosis": False},
         100.0, 200, 3),
    Case("spectral-default", "spectral", {}, 100.0, 200, 3),
    Case("spectral-highpass-peaks-no-overlap", "spectral",
         {"filter_type": "high", "filter_cutoff": 1.0, "filter_order": 4, "features": "peaks", "n_peaks": 4,
          "overlap": False}, 100.0, 200, 6),
    Case("spectral-nofilter-spectrum-linear", "spectral",
         {"filter_type": "none", "features": "spectrum", "log_spectrum": False, "fft_length": 64}, 100.0, 200, 3),
    Case("spectral-lowpass-spectrum-log-6-axes", "spectral", {"features": "spectrum"}, 100.0, 200, 6),
    Case("spectral-peaks-linear-short-window", "spectral",
         {"features": "peaks", "log_spectrum": False, "filter_cutoff": 10.0, "filter_order": 2}, 100.0, 100, 3),
    Case("spectral-highpass-bands-linear", "spectral",
         {"filter_type": "high", "filter_cutoff": 0.5, "log_spectrum": False, "band_edges": [0.5, 2, 4, 8, 16, 49]},
         100.0, 200, 3),
    Case("raw-audio", "raw", {}, 16000.0, 16000, 1),
    Case("flatten-audio", "flatten", {}, 16000.0, 16000, 1),
    Case("mfcc-default", "mfcc", {}, 16000.0, 16000, 1),
    Case("mfcc-no-cmn-no-preemphasis", "mfcc",
         {"cmn_window": 0, "pre_emphasis": 0.0, "num_filters": 40, "num_cepstral": 20, "frame_length_ms": 25,
          "frame_stride_ms": 10, "low_frequency": 100, "high_frequency": 7000}, 16000.0, 16000, 1),
    Case("mfcc-short-cmn", "mfcc", {"cmn_window": 10, "fft_length": 1024}, 16000.0, 16000, 1),
    Case("mfe-default", "mfe", {}, 16000.0, 16000, 1, normalised=True, anomaly=True),
    Case("mfe-options", "mfe", {"noise_floor_db": -80, "num_filters": 32, "low_frequency": 300,
                                "high_frequency": 6000, "frame_length_ms": 32, "frame_stride_ms": 16},
         16000.0, 16000, 1, normalised=True),
    Case("spectrogram-default", "spectrogram", {}, 16000.0, 16000, 1, normalised=True),
    Case("spectrogram-8khz", "spectrogram", {"fft_length": 256, "noise_floor_db": -70}, 8000.0, 8000, 1,
         normalised=True),
]


# ---------------------------------------------------------------- windows


def motion_windows(axes: int, frames: int, fs: float) -> np.ndarray:
    """Each gesture, noise, stillness at zero, and a shake clipped at +-2 g (a saturating sensor)."""
    gyro = axes == 6
    out = []
    for i, gesture in enumerate(GESTURES):
        synth = GestureSynth(gesture, fs, seed=11 + i, gyro=gyro)
        synth.next(37)  # not at the start of a repetition
        out.append(synth.next(frames))
    out.append(np.random.default_rng(5).normal(0, 3, (frames, axes)))
    out.append(np.zeros((frames, axes)))
    out.append(np.clip(GestureSynth("shake", fs, seed=3, gyro=gyro).next(frames), -2 * G, 2 * G))
    return np.stack(out).astype(np.float32)


@cache
def audio_windows(fs: float, frames: int) -> np.ndarray:
    """Tones, a sweep, noise, silence, a clipped sine, a tone at -70 dB, room background and, with
    espeak-ng, spoken words; as the studio hands them over: int16 / 32768."""
    t = np.arange(frames) / fs
    rng = np.random.default_rng(7)
    sigs = [0.5 * np.sin(2 * np.pi * 1000 * t), 0.3 * signal.chirp(t, 100, t[-1], 0.45 * fs),
            rng.normal(0, 0.1, frames), np.zeros(frames), np.clip(1.6 * np.sin(2 * np.pi * 440 * t), -1, 1),
            10 ** (-70 / 20) * np.sin(2 * np.pi * 300 * t)]
    sigs += [background(seed, int(fs))[:frames, 0] / 32768 for seed in (1, 2)]
    if have("espeak-ng") and have("sox"):
        sigs += [speak(word, voice, 150, 50, 0.1, int(fs))[:frames, 0] / 32768
                 for word, voice in (("seven", "en"), ("stop", "en-us"))]
    x = np.stack(sigs)[:, :, None]
    return (np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16) / np.float32(32768)).astype(np.float32)


def windows_for(case: Case) -> np.ndarray:
    if case.fs >= 8000:
        return audio_windows(case.fs, case.frames)
    return motion_windows(case.axes, case.frames, case.fs)


def configured(case: Case) -> Configured:
    return get_block(case.block).configure(case.params, case.fs, case.frames, case.axes)


def framing(c: Configured, kind: str = "sensor") -> dict:
    return {"frequency_hz": c.fs, "window_frames": c.window_frames, "stride_frames": c.window_frames,
            "kind": kind, "axes": c.axes}


def dsp(c: Configured) -> dict:
    return {"block": c.block.name, "version": c.block.version, "params": c.params}


def hand_made_anomaly(features: np.ndarray) -> AnomalyModel:
    flat = features.reshape(len(features), -1).astype(np.float64)
    idx = [0, 3, flat.shape[1] // 2, flat.shape[1] - 1]
    sub = flat[:, idx]
    mean, scale = sub.mean(0), sub.std(0) + 0.1
    centres = (sub[:3] - mean) / scale + 0.25
    return AnomalyModel(idx, mean.tolist(), scale.tolist(), centres.tolist(), 1.5)


# ---------------------------------------------------------------- all cases: one gcc call, one run

MAIN = """\
#include <stdio.h>
#include <stdlib.h>

typedef int (*features_fn)(const float *, size_t, float *);
typedef float (*anomaly_fn)(const float *);
{declarations}
static const struct {{ features_fn features; anomaly_fn anomaly; size_t raw, count; }} cases[] = {{
{table}
}};

int main(int argc, char **argv)
{{
    size_t c;
    char path[4096];
    if (argc != 2) {{
        return 1;
    }}
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {{
        float *raw = malloc(cases[c].raw * sizeof(float)), *features = malloc(cases[c].count * sizeof(float));
        FILE *in, *out;
        snprintf(path, sizeof path, "%s/in%u.bin", argv[1], (unsigned)c);
        in = fopen(path, "rb");
        snprintf(path, sizeof path, "%s/out%u.bin", argv[1], (unsigned)c);
        out = fopen(path, "wb");
        if (!raw || !features || !in || !out) {{
            return 2;
        }}
        if (cases[c].features(raw, cases[c].raw - 1, features) != -1002
                || cases[c].features(NULL, cases[c].raw, features) != -1001) {{
            return 3;
        }}
        while (fread(raw, sizeof(float), cases[c].raw, in) == cases[c].raw) {{
            if (cases[c].features(raw, cases[c].raw, features) != 0) {{
                return 4;
            }}
            fwrite(features, sizeof(float), cases[c].count, out);
            if (cases[c].anomaly) {{
                const float score = cases[c].anomaly(features);
                fwrite(&score, sizeof(float), 1, out);
            }}
        }}
        fclose(in);
        fclose(out);
        free(raw);
        free(features);
    }}
    return 0;
}}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every case rendered into its own folder; each impulse.c compiled as its own translation unit
    (a wrapper renames the API per case); one program runs all cases on their windows."""
    root = tmp_path_factory.mktemp("impulse_c")
    results, wrappers, declarations, table = {}, [], [], []
    for n, case in enumerate(CASES):
        c = configured(case)
        windows = windows_for(case)
        expected = np.stack([c.run(w) for w in windows]).reshape(len(windows), -1)
        anomaly = hand_made_anomaly(expected) if case.anomaly else None
        kind = "audio" if case.fs >= 8000 else "sensor"
        render_impulse(dsp(c), framing(c, kind), c.shape, ["a", "b"], root / f"case{n}", anomaly=anomaly)
        windows.tofile(root / f"in{n}.bin")
        defines = "".join(f"#define {name} {name}_{n}\n" for name in EXTERNS)
        wrapper = root / f"case{n}.c"
        wrapper.write_text(f'{defines}#include "case{n}/impulse.c"\n')
        wrappers.append(wrapper.name)
        declarations.append(f"int impulse_features_{n}(const float *, size_t, float *);")
        if anomaly:
            declarations.append(f"float impulse_anomaly_{n}(const float *);")
        count = int(np.prod(c.shape))
        table.append(f"    {{impulse_features_{n}, {f'impulse_anomaly_{n}' if anomaly else 'NULL'}, "
                     f"{case.frames * case.axes}, {count}}},")
        results[case.id] = SimpleNamespace(n=n, expected=expected, anomaly=anomaly, count=count)
    (root / "main.c").write_text(MAIN.format(declarations="\n".join(declarations), table="\n".join(table)))
    build = subprocess.run([*GCC, "-o", "features", "main.c", *wrappers, "-lm"], cwd=root, capture_output=True,
                           text=True)
    assert build.returncode == 0, build.stderr[-4000:]
    ran = subprocess.run([str(root / "features"), str(root)], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, f"test program exited {ran.returncode}: {ran.stderr}"
    for r in results.values():
        width = r.count + (1 if r.anomaly else 0)
        out = np.fromfile(root / f"out{r.n}.bin", np.float32).reshape(-1, width)
        r.got, r.score = out[:, :r.count], (out[:, r.count] if r.anomaly else None)
    return SimpleNamespace(root=root, results=results, wrappers=wrappers)


def feature_scale(expected: np.ndarray, normalised: bool) -> np.ndarray:
    return np.ones(expected.shape[1]) if normalised else np.maximum(1.0, np.abs(expected).max(axis=0))


def float32_floor(case: Case, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spectral dB features more than FLOAT32_DEPTH_DB under the strongest dB feature of their axis
    and window (a mask), and that strongest value per feature. Down there both float32
    implementations compute rounding noise (the Python block rounds the filtered signal to float32
    too), so those features are held only to staying deep."""
    mask = np.zeros(expected.shape, bool)
    if case.block != "spectral" or not configured(case).params["log_spectrum"]:
        return mask, np.full(expected.shape, np.inf)
    per_axis = expected.reshape(len(expected), case.axes, -1)
    db = np.zeros(per_axis.shape, bool)
    if case.params.get("features") == "peaks":
        db[:, :, 2::2] = True  # (Hz, dB) pairs after the RMS
    else:
        db[:, :, 1:] = True
    strongest = np.broadcast_to(np.where(db, per_axis, -np.inf).max(axis=2, keepdims=True), per_axis.shape)
    mask = db & (per_axis < strongest - FLOAT32_DEPTH_DB)
    return mask.reshape(expected.shape), strongest.reshape(expected.shape)


def errors(case: Case, r) -> tuple[float, float]:
    """The largest difference over windows and features in units of each feature's scale, and the
    largest in dB among features at the float32 floor (0 if none)."""
    diff = np.abs(r.got.astype(np.float64) - r.expected)
    deep, _ = float32_floor(case, r.expected)
    scaled = diff / feature_scale(r.expected, case.normalised)
    return float(scaled[~deep].max()), float(diff[deep].max()) if deep.any() else 0.0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_c_features_match_the_python_block(built, case):
    r = built.results[case.id]
    assert r.got.shape == r.expected.shape
    assert np.isfinite(r.got).all()
    err, _ = errors(case, r)
    assert err <= TOLERANCE, f"{case.id}: worst difference {err:.3g} of the feature's scale"
    deep, strongest = float32_floor(case, r.expected)
    assert (r.got[deep] < strongest[deep] - FLOAT32_DEPTH_DB + 20).all()  # still far down
    if case.block == "raw":
        np.testing.assert_array_equal(r.got, r.expected)  # the same float multiply
    if case.normalised:
        assert r.got.min() >= 0.0 and r.got.max() <= 1.0


def test_c_anomaly_score_matches_the_python_model(built):
    for case in CASES:
        r = built.results[case.id]
        if r.anomaly is None:
            continue
        expected = r.anomaly.score(r.expected)
        np.testing.assert_allclose(r.score, expected, rtol=TOLERANCE, atol=TOLERANCE)
        assert np.ptp(expected) > 0.1  # the windows are at different distances


@pytest.mark.skipif(not (have("arm-none-eabi-gcc") and have("arm-none-eabi-nm")),
                    reason="the Arm embedded toolchain (gcc-arm-none-eabi) is not installed")
def test_cortex_m4f_build_uses_single_precision_only(built, tiny):
    """Every case (and run_impulse) compiles for a Cortex-M4F with hard float and references no
    double-precision helper (__aeabi_d*) and no double libm function."""
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion", "-mcpu=cortex-m4", "-mthumb",
             "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-c"]
    shutil.copy(tiny.root / "impulse_run.c", built.root / "run.c")
    shutil.copy(tiny.root / "kws.h", built.root / "kws.h")
    shutil.copy(tiny.root / "impulse.h", built.root / "impulse.h")
    out = subprocess.run(["arm-none-eabi-gcc", *flags, *built.wrappers, "run.c"], cwd=built.root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-4000:]
    objects = [w.replace(".c", ".o") for w in [*built.wrappers, "run.c"]]
    nm = subprocess.run(["arm-none-eabi-nm", "-u", *objects], cwd=built.root, capture_output=True, text=True,
                        check=True)
    undefined = {line.split()[-1] for line in nm.stdout.splitlines() if line.strip().startswith("U ")}
    doubles = {s for s in undefined if s.startswith("__aeabi_d") or s in {"log", "log10", "exp", "sqrt", "sin",
                                                                          "cos", "pow", "fabs", "rint"}}
    assert not doubles
    assert undefined <= {"sqrtf", "logf", "log10f", "rintf", "kws_init", "kws_input", "kws_invoke",
                         "kws_output", "impulse_features", "memset", "memcpy"}


# ---------------------------------------------------------------- labels and run_impulse, stand-in model

LABELS = ['say "hi"', "back\\slash", "two\nlines\tand a tab", "what??=??/??'", "naïve café 日本",
          "é7beef\u00e9012", "*/ end /* comment", "\x01\x7f ctl"]

KWS_H = """\
#include <stdint.h>
#define KWS_INPUT_SIZE 8
#define KWS_OUTPUT_SIZE 8
#define KWS_INPUT_SCALE 0.25f
#define KWS_INPUT_ZERO_POINT (-3)
#define KWS_OUTPUT_SCALE 0.00390625f
#define KWS_OUTPUT_ZERO_POINT (-128)
int kws_init(void);
int8_t *kws_input(void);
int kws_invoke(void);
const int8_t *kws_output(void);
"""
KWS_C = """\
#include "kws.h"
int kws_inits;
static int8_t in[8], out[8];
int kws_init(void) { return ++kws_inits == 1 ? 9 : 0; } /* fails the first time */
int8_t *kws_input(void) { return in; }
int kws_invoke(void) { int i; for (i = 0; i < 8; i++) out[i] = in[i]; return in[0] == 127 ? 5 : 0; }
const int8_t *kws_output(void) { return out; }
"""
TINY_MAIN = """\
#include <stdio.h>
#include <string.h>
#include "impulse.h"
extern int kws_inits;
int main(void)
{
    float raw[IMPULSE_RAW_COUNT] = {0.0f}, scores[IMPULSE_CLASS_COUNT];
    int i;
    FILE *in = fopen("windows.bin", "rb"), *out = fopen("scores.bin", "wb");
    for (i = 0; i < IMPULSE_CLASS_COUNT; i++) {
        printf("%u:", (unsigned)strlen(impulse_labels[i]));
        fwrite(impulse_labels[i], 1, strlen(impulse_labels[i]), stdout);
    }
    if (!in || !out || run_impulse(raw, IMPULSE_RAW_COUNT - 1, scores) != IMPULSE_ERROR_SIZE
            || run_impulse(raw, IMPULSE_RAW_COUNT, NULL) != IMPULSE_ERROR_NULL) {
        return 20;
    }
    while (fread(raw, sizeof(float), IMPULSE_RAW_COUNT, in) == IMPULSE_RAW_COUNT) {
        const int rc = run_impulse(raw, IMPULSE_RAW_COUNT, scores);
        fwrite(&rc, sizeof rc, 1, out);
        fwrite(scores, sizeof(float), IMPULSE_CLASS_COUNT, out);
    }
    fclose(in);
    fclose(out);
    return kws_inits;
}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A raw impulse of 4 frames x 2 axes with awkward labels, run_impulse around a stand-in model
    ``kws`` whose outputs are its inputs; windows probe rounding ties and clipping."""
    root = tmp_path_factory.mktemp("tiny")
    c = get_block("raw").configure({}, 50.0, 4, 2)
    paths = render_impulse(dsp(c), framing(c), c.shape, LABELS, root, model_prefix="kws")
    assert sorted(p.name for p in paths) == ["impulse.c", "impulse.h", "impulse_run.c"]
    (root / "kws.h").write_text(KWS_H)
    (root / "kws.c").write_text(KWS_C)
    (root / "main.c").write_text(TINY_MAIN)
    ties = np.arange(-24, 24, dtype=np.float32) * np.float32(0.125)  # x / 0.25 = k / 2: every half is a tie
    windows = np.concatenate([ties, [100.0, -100.0, 31.0, -33.0, 0.3, -0.3, 1e-9, -31.7],
                              [32.0, 1, 2, 3, 4, 5, 6, 7]]).astype(np.float32).reshape(-1, 8)
    windows.tofile(root / "windows.bin")
    build = subprocess.run([*GCC, "-o", "tiny", "main.c", "impulse.c", "impulse_run.c", "kws.c", "-lm"], cwd=root,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-4000:]
    ran = subprocess.run([str(root / "tiny")], cwd=root, capture_output=True, timeout=30)
    raw = np.fromfile(root / "scores.bin", np.uint8).reshape(len(windows), 4 + 4 * 8)
    return SimpleNamespace(root=root, ran=ran, windows=windows, rc=raw[:, :4].copy().view(np.int32)[:, 0],
                           scores=raw[:, 4:].copy().view(np.float32))


def test_labels_reach_c_byte_for_byte(tiny):
    printed, expected = tiny.ran.stdout, b"".join(b"%d:%s" % (len(s.encode()), s.encode()) for s in LABELS)
    assert printed == expected


def test_run_impulse_quantises_like_the_reference_and_initialises_once(tiny):
    assert tiny.ran.returncode == 2  # kws_init ran twice: it failed once, then never again once it worked
    assert tiny.rc[0] == -9  # the first window met the failing init: its error, negated
    x = tiny.windows[1:]
    q = np.clip(np.round(x / np.float32(0.25)) - 3, -128, 127)  # studio.learn.reference.Reference.quantize
    scores = ((q.astype(np.float32) + 128) * np.float32(0.00390625)).astype(np.float32)
    invoke_failed = q[:, 0] == 127
    np.testing.assert_array_equal(tiny.rc[1:], np.where(invoke_failed, -5, 0))
    assert invoke_failed.any() and not invoke_failed.all()
    np.testing.assert_array_equal(tiny.scores[1:][~invoke_failed], scores[~invoke_failed])


@pytest.mark.parametrize("label, literal", [
    ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"'), ("??=", '"\\?\\?="'), ("\n", '"\\n"'),
    ("é1", '"\\303\\2511"'), ("", '""'),
])
def test_c_string_escapes(label, literal):
    assert c_string(label) == literal


# ---------------------------------------------------------------- refusals and runs


def test_unknown_block_version_prefix_shape_and_labels_are_refused(tmp_path):
    c = get_block("mfe").configure({}, 16000.0, 16000, 1)
    ok = (dsp(c), framing(c, "audio"), c.shape, ["yes", "no"], tmp_path)
    render_impulse(*ok)
    with pytest.raises(ImpulseCError, match="'wavelet' has no C implementation"):
        render_impulse({**dsp(c), "block": "wavelet"}, *ok[1:])
    with pytest.raises(ImpulseCError, match="mfe version 2 has no C implementation"):
        render_impulse({**dsp(c), "version": 2}, *ok[1:])
    with pytest.raises(ImpulseCError, match="not a C identifier"):
        render_impulse(*ok, model_prefix="my-model")
    with pytest.raises(ImpulseCError, match="clash"):
        render_impulse(*ok, model_prefix="impulse_run")
    with pytest.raises(ImpulseCError, match="feature shape"):
        render_impulse(dsp(c), framing(c, "audio"), (98, 40), ["yes"], tmp_path)
    with pytest.raises(ImpulseCError, match="NUL"):
        render_impulse(dsp(c), framing(c, "audio"), c.shape, ["a\0b"], tmp_path)
    with pytest.raises(ImpulseCError, match="filter cutoff"):
        render_impulse({"block": "spectral", "version": 1, "params": {"filter_cutoff": 80}},
                       {"frequency_hz": 100.0, "window_frames": 200, "axes": 3}, (3, 5), ["a"], tmp_path)


def test_render_for_run_takes_everything_from_the_run(tmp_path):
    c = get_block("spectral").configure({}, 100.0, 200, 3)
    model = AnomalyModel([0, 4], [0.0, 1.0], [1.0, 2.0], [[0.0, 0.0], [1.0, 1.0]], 2.5)
    run_dir = tmp_path / "run-0003"
    run_dir.mkdir()
    (run_dir / "anomaly.json").write_text(json.dumps(model.to_dict()))
    run = Run(3, run_dir, {
        "dsp": dsp(c), "framing": {**framing(c), "stride_frames": 20}, "feature_shape": list(c.shape),
        "classes": ["circle", "idle"]}, {})
    render_for_run(run, tmp_path, model_prefix="net")
    header = (tmp_path / "impulse.h").read_text()
    for line in ("#define IMPULSE_WINDOW_FRAMES 200", "#define IMPULSE_STRIDE_FRAMES 20", "#define IMPULSE_AXES 3",
                 "#define IMPULSE_FEATURE_COUNT 15", "#define IMPULSE_CLASS_COUNT 2", "#define IMPULSE_HAS_ANOMALY 1",
                 "#define IMPULSE_FREQUENCY_HZ 100.0f", "#define IMPULSE_ANOMALY_THRESHOLD 2.5f"):
        assert line in header
    assert '#include "net.h"' in (tmp_path / "impulse_run.c").read_text()
    run.config.pop("framing")
    with pytest.raises(ImpulseCError, match="lacks 'framing'"):
        render_for_run(run, tmp_path)


# ---------------------------------------------------------------- the whole pipeline (needs studio.compiler)


def test_pipeline_run_impulse_matches_the_int8_reference(tmp_path):
    """A small run trained by the studio's training job; its int8 model compiled to C; run_impulse on
    motion windows against the LiteRT reference kernels (the firmware's ground truth)."""
    compiler = pytest.importorskip("studio.compiler")
    from studio.dataset.synthetic import add_gestures
    from studio.dsp import features
    from studio.dsp.windowing import ImpulseConfig
    from studio.jobs import Progress
    from studio.learn import train
    from studio.learn.reference import Reference
    from studio.project import Project

    with Project.create(tmp_path / "p", "pipeline") as project:
        add_gestures(project, ("idle", "wave", "shake"), range(3), 10.0, 100.0, "training")
        add_gestures(project, ("idle", "wave", "shake"), range(3, 4), 10.0, 100.0, "testing")
        features.save_config(project, ImpulseConfig(2000, 500, "spectral"))
    run = train.run(train.TrainParams(tmp_path / "p", {"epochs": 3}), Progress()).run
    out = tmp_path / "c"
    render_for_run(run, out)
    compiled = compiler.compile_model(run.model_bytes("int8"), out, prefix="model")
    f = run.config["framing"]
    c = get_block("spectral").configure(run.config["dsp"]["params"], f["frequency_hz"], f["window_frames"], f["axes"])
    windows = motion_windows(f["axes"], f["window_frames"], f["frequency_hz"])
    windows.tofile(out / "windows.bin")
    (out / "main.c").write_text(textwrap.dedent("""\
        #include <stdio.h>
        #include "impulse.h"
        int main(void)
        {
            float raw[IMPULSE_RAW_COUNT], scores[IMPULSE_CLASS_COUNT];
            FILE *in = fopen("windows.bin", "rb"), *out = fopen("scores.bin", "wb");
            while (in && out && fread(raw, sizeof(float), IMPULSE_RAW_COUNT, in) == IMPULSE_RAW_COUNT) {
                if (run_impulse(raw, IMPULSE_RAW_COUNT, scores) != 0) return 1;
                fwrite(scores, sizeof(float), IMPULSE_CLASS_COUNT, out);
            }
            return 0;
        }
        """))
    subprocess.run([*GCC, "-o", "prog", *sorted(p.name for p in out.glob("*.c")), "-lm"], cwd=out, check=True)
    subprocess.run([str(out / "prog")], cwd=out, check=True, timeout=60)
    got = np.fromfile(out / "scores.bin", np.float32).reshape(len(windows), -1)
    expected = Reference(run.model_bytes("int8")).probabilities(np.stack([c.run(w) for w in windows]))
    # a feature on a rounding edge of the input quantisation could move an output by a step; none did here
    np.testing.assert_allclose(got, expected, rtol=0, atol=compiled.output["scale"] * 1.001)
    assert (got == expected).mean() >= 0.9


# ---------------------------------------------------------------- every testing window of the default projects

PIPELINE_MAIN = """\
#include <stdio.h>
#include "impulse.h"
int main(void)
{
    static float raw[IMPULSE_RAW_COUNT], features[IMPULSE_FEATURE_COUNT], scores[IMPULSE_CLASS_COUNT];
    FILE *in = fopen("windows.bin", "rb"), *out = fopen("out.bin", "wb");
    if (!in || !out) {
        return 1;
    }
    while (fread(raw, sizeof(float), IMPULSE_RAW_COUNT, in) == IMPULSE_RAW_COUNT) {
        if (impulse_features(raw, IMPULSE_RAW_COUNT, features) != 0
                || run_impulse(raw, IMPULSE_RAW_COUNT, scores) != 0) {
            return 2;
        }
        fwrite(features, sizeof(float), IMPULSE_FEATURE_COUNT, out);
        fwrite(scores, sizeof(float), IMPULSE_CLASS_COUNT, out);
    }
    fclose(in);
    return fclose(out) != 0 ? 3 : 0;
}
"""


def every_testing_window(run) -> SimpleNamespace:
    """Every window of every testing sample, cut as the test job (studio.learn.classify) cuts them:
    the raw windows, the features it classifies (from the feature cache) and its int8 label per window."""
    from studio.dsp import features
    from studio.dsp.windowing import windows_of
    from studio.jobs import Progress
    from studio.learn import classify
    from studio.project import Project

    project_dir = run.path.parent.parent
    cfg = classify.impulse_of(run)
    fs = features.run(features.FeatureParams(project_dir, cfg, 2, "testing"), Progress())
    f = run.config["framing"]
    assert (fs.plan.window_frames, fs.plan.axes, fs.plan.kind) == (f["window_frames"], f["axes"], f["kind"])
    ids = list(dict.fromkeys(int(i) for i in fs.sample_ids))
    with Project.open(project_dir) as project:
        samples = {s.id: s for s in project.samples(category="testing")}
        raw = [windows_of(project.read(samples[i]), samples[i].frequency_hz, fs.plan.framing, cfg.pad_short)
               for i in ids]
    assert [len(w) for w in raw] == [int((fs.sample_ids == i).sum()) for i in ids]
    raw = np.concatenate(raw)
    block = features.block_for(cfg, fs.plan)
    # these raw windows are the ones the cached features were computed from
    np.testing.assert_array_equal(np.stack([block.run(w) for w in raw]), fs.features)
    report = classify.run(classify.TestParams(project_dir, run.number), Progress())
    assert [s.sample_id for s in report.samples] == ids
    labels = [label for s in report.samples for label in s.int8_windows]
    return SimpleNamespace(raw=raw, features=fs.features, labels=labels, classes=report.classes)


@pytest.mark.parametrize("which", ["gesture", "keyword"])
def test_c_pipeline_argmax_matches_python_on_every_testing_window(which, request, tmp_path):
    """The default motion and keyword projects' first runs (tests/conftest.py): impulse and int8
    model rendered to C, built with the host gcc; every raw testing window through run_impulse gives
    the test job's int8 class on 100% of windows, every score within one output step of the reference."""
    compiler = pytest.importorskip("studio.compiler")
    from studio.learn.reference import Reference

    run = request.getfixturevalue(f"{which}_run").run
    data = every_testing_window(run)
    reference = Reference(run.model_bytes("int8"))
    expected = reference.probabilities(data.features)
    assert [data.classes[i] for i in expected.argmax(1)] == data.labels  # the test job's int8 labels

    out = tmp_path / "c"
    render_for_run(run, out)
    compiled = compiler.compile_model(run.model_bytes("int8"), out, prefix="model")
    data.raw.astype(np.float32).tofile(out / "windows.bin")
    (out / "main.c").write_text(PIPELINE_MAIN)
    build = subprocess.run([*GCC, "-o", "prog", *sorted(p.name for p in out.glob("*.c")), "-lm"], cwd=out,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-4000:]
    ran = subprocess.run([str(out / "prog")], cwd=out, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, f"pipeline program exited {ran.returncode}: {ran.stderr}"
    count, classes = data.features[0].size, len(data.classes)
    got = np.fromfile(out / "out.bin", np.float32).reshape(len(data.raw), count + classes)
    c_features, scores = got[:, :count], got[:, count:]

    step = compiled.output["scale"]
    diff = np.abs(scores.astype(np.float64) - expected)
    flat = data.features.reshape(len(data.features), -1)
    inputs_moved = (reference.quantize(c_features) != reference.quantize(flat)).any(axis=1)
    differ = scores.argmax(1) != expected.argmax(1)
    top = np.sort(expected, axis=1)
    print(f"{which}: {len(data.raw)} testing windows, worst score difference {diff.max():.6g} "
          f"({diff.max() / step:.3g} output steps), {int((diff > 0).any(axis=1).sum())} windows with a score off, "
          f"{int(inputs_moved.sum())} with a quantised input off, worst feature difference "
          f"{np.abs(c_features - flat).max():.3g}, smallest top-2 margin {(top[:, -1] - top[:, -2]).min() / step:g} "
          "output steps")
    assert not differ.any(), (
        f"argmax differs on {int(differ.sum())} of {len(differ)} windows {np.flatnonzero(differ)[:20].tolist()}: "
        f"quantised input moved there {inputs_moved[differ].tolist()[:20]}")
    assert diff.max() <= step * 1.001
