"""DSP block speed, per call, and features for one hour of audio; MFCC against librosa.

    .venv/bin/pip install -e ".[bench]"     # librosa, for the comparison only
    .venv/bin/python benchmarks/bench_dsp.py

Cases: MFCC, MFE and spectrogram of 1 s of 16 kHz audio; spectral features of a 2 s three-axis
window at 100 Hz; MFCC of one hour of audio in 1 s windows. librosa's MFCC is timed in the
same run with matching parameters (20 ms frames every 20 ms without centring, FFT 512, 32 mel
filters from 0 Hz to 8 kHz, HTK mel, 13 coefficients; librosa frames by the FFT length, so it
makes 49 frames where we make 50). Goal: MFCC of 1 s in
at most 2 ms. Prints a table and writes benchmarks/results/dsp.json.
"""

from __future__ import annotations

import sys
import time
import timeit

import numpy as np
from results_file import write_results

from studio.dsp.registry import get_block

FS = 16000


def per_call_ms(fn, repeat: int = 7, number: int = 50) -> float:
    fn()
    return min(timeit.repeat(fn, repeat=repeat, number=number)) / number * 1000


def main() -> int:
    rng = np.random.default_rng(0)
    audio = (0.3 * np.sin(2 * np.pi * 440 * np.arange(FS) / FS) + rng.normal(0, 0.05, FS)).astype(np.float32)
    window = audio.reshape(-1, 1)
    motion = rng.normal(size=(200, 3)).astype(np.float32)
    rows = []
    for name in ("mfcc", "mfe", "spectrogram"):
        block = get_block(name).configure({}, FS, FS, 1)
        rows.append((f"{name}, 1 s at 16 kHz", per_call_ms(lambda b=block: b.run(window)), block.shape))
    spectral = get_block("spectral").configure({}, 100, 200, 3)
    rows.append(("spectral, 2 s x 3 axes at 100 Hz", per_call_ms(lambda: spectral.run(motion)), spectral.shape))

    mfcc = get_block("mfcc").configure({"cmn_window": 0, "pre_emphasis": 0.0}, FS, FS, 1)
    hour = rng.normal(0, 0.1, (3600, FS, 1)).astype(np.float32)
    t = time.perf_counter()
    for w in hour:
        mfcc.run(w)
    hour_s = time.perf_counter() - t
    rows.append(("mfcc, one hour (3,600 windows of 1 s)", hour_s * 1000, (3600, *mfcc.shape)))

    ours = per_call_ms(lambda: mfcc.run(window))
    librosa_ms = None
    try:
        import librosa

        def theirs():
            return librosa.feature.mfcc(y=audio, sr=FS, n_mfcc=13, n_fft=512, win_length=320, hop_length=320,
                                        window="hamming", center=False, n_mels=32, fmin=0.0, fmax=8000.0,
                                        htk=True, norm=None, dct_type=2, power=2.0)

        librosa_ms = per_call_ms(theirs)
        ref = theirs()
        # librosa frames by n_fft (512) even with a 320-sample window: one frame fewer per second
        assert abs(ref.shape[1] - mfcc.shape[0]) <= 1, (ref.shape, mfcc.shape)
    except ImportError:
        print("librosa is not installed (pip install -e '.[bench]'): no comparison", file=sys.stderr)

    print(f"{'case':<42} {'ms':>10} {'output':>14}")
    for name, ms, shape in rows:
        print(f"{name:<42} {ms:>10.3f} {'x'.join(map(str, shape)):>14}")
    ratio = librosa_ms / ours if librosa_ms else None
    if librosa_ms:
        print(f"MFCC without CMN: ours {ours:.3f} ms, librosa {librosa_ms:.3f} ms, ours is {ratio:.1f}x as fast")
    goal = rows[0][1] <= 2.0
    print(f"goal MFCC of 1 s in <= 2 ms: {'met' if goal else 'NOT met'} ({rows[0][1]:.3f} ms)")
    write_results("dsp", {
        "per_call_ms": {name: round(ms, 4) for name, ms, _ in rows},
        "mfcc_ours_ms": round(ours, 4), "mfcc_librosa_ms": round(librosa_ms, 4) if librosa_ms else None,
        "speed_ratio_vs_librosa": round(ratio, 2) if ratio else None, "goal_met": goal,
    })
    return 0 if goal else 1


if __name__ == "__main__":
    sys.exit(main())
