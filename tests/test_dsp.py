"""DSP blocks checked against independent facts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import scipy.stats
from scipy import signal

from studio.dsp import spectra
from studio.dsp.params import DspError
from studio.dsp.registry import all_blocks, get_block

FS = 16000


def tone(freq, seconds=1.0, fs=FS, amp=0.5):
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(fs * seconds)) / fs)).astype(np.float32).reshape(-1, 1)


def test_every_block_has_schema_defaults_version_and_summary():
    names = {b.name for b in all_blocks()}
    assert names == {"raw", "flatten", "spectral", "mfcc", "mfe", "spectrogram"}
    for b in all_blocks():
        assert b.version >= 1 and b.summary and b.schema
        assert set(b.defaults()) == {p.name for p in b.schema}


def test_documented_defaults():
    mfcc = get_block("mfcc").defaults()
    assert (mfcc["num_cepstral"], mfcc["frame_length_ms"], mfcc["frame_stride_ms"], mfcc["num_filters"],
            mfcc["fft_length"], mfcc["low_frequency"], mfcc["high_frequency"], mfcc["pre_emphasis"],
            mfcc["cmn_window"]) == (13, 20.0, 20.0, 32, 256, 0.0, 0.0, 0.98, 101)
    mfe = get_block("mfe").defaults()
    assert (mfe["frame_length_ms"], mfe["frame_stride_ms"], mfe["num_filters"], mfe["fft_length"],
            mfe["noise_floor_db"]) == (20.0, 10.0, 40, 256, -52.0)
    spec = get_block("spectrogram").defaults()
    assert (spec["frame_length_ms"], spec["frame_stride_ms"], spec["fft_length"], spec["noise_floor_db"]) == \
        (20.0, 10.0, 128, -52.0)


def test_pure_tone_lands_in_its_fft_bin_and_mel_filter():
    block = get_block("spectrogram").configure({"fft_length": 512}, FS, FS, 1)
    spec = block.run(tone(1000.0))
    assert int(np.argmax(spec.mean(axis=0))) == 1000 * 512 // FS  # bin 32
    mfe = get_block("mfe").configure({"fft_length": 512}, FS, FS, 1)
    energies = mfe.run(tone(1000.0))
    edges = spectra.mel_to_hz(np.linspace(spectra.hz_to_mel(0), spectra.hz_to_mel(FS / 2), 42))
    expected = int(np.argmin(np.abs(edges[1:-1] - 1000.0)))  # the filter whose peak is nearest 1 kHz
    assert int(np.argmax(energies.mean(axis=0))) == expected


def test_full_scale_reference_and_silence_at_the_noise_floor():
    spec = get_block("spectrogram").configure({"fft_length": 512}, FS, FS, 1)
    assert spec.run(np.zeros((FS, 1), np.float32)).max() == 0.0  # silence: the floor, normalised to 0
    loud = spec.run(tone(1000.0, amp=1.0))
    # a full-scale sine is 0.25 (-6 dB) re full scale in its bin, less a little for the window's spread
    assert 0.85 < loud.max() <= 1.0
    mfe = get_block("mfe").configure({}, FS, FS, 1)
    assert mfe.run(np.zeros((FS, 1), np.float32)).max() == 0.0
    quiet = mfe.run(tone(1000.0, amp=10 ** (-70 / 20)))  # -70 dB: below the -52 dB floor
    assert quiet.max() == 0.0


def test_dct_is_orthonormal():
    c = spectra.dct_matrix(32, 32).astype(np.float64)
    np.testing.assert_allclose(c @ c.T, np.eye(32), atol=1e-6)
    x = np.random.default_rng(0).normal(size=32)
    np.testing.assert_allclose(c @ x, scipy.fft.dct(x, type=2, norm="ortho"), atol=1e-5)


def test_mfcc_is_the_dct_of_log_mel_energies():
    x = tone(440.0) + np.random.default_rng(1).normal(0, 0.01, (FS, 1)).astype(np.float32)
    params = {"pre_emphasis": 0.0, "cmn_window": 0, "fft_length": 512}
    mfcc = get_block("mfcc").configure(params, FS, FS, 1).run(x)
    frames = np.lib.stride_tricks.sliding_window_view(x[:, 0], 320)[::320]
    w = np.hamming(320)
    power = np.abs(np.fft.rfft(frames * w, 512)) ** 2 / w.sum() ** 2
    bank = spectra.mel_filterbank(32, 512, FS, 0.0, FS / 2)
    expected = scipy.fft.dct(np.log(np.maximum(power @ bank.T, 1e-10)), type=2, norm="ortho", axis=1)[:, :13]
    np.testing.assert_allclose(mfcc, expected, rtol=1e-3, atol=1e-3)


def test_cepstral_mean_normalisation_centres_each_coefficient():
    x = tone(300.0) * np.linspace(0.2, 1, FS, dtype=np.float32)[:, None]
    c = get_block("mfcc").configure({"cmn_window": 1001}, FS, FS, 1).run(x)
    np.testing.assert_allclose(c.mean(axis=0), 0, atol=1e-3)


def test_butterworth_is_3_db_down_at_its_cutoff():
    fs = 100.0
    block = get_block("spectral").configure({"filter_cutoff": 5.0, "filter_order": 6}, fs, 1000, 1)
    sos = signal.butter(6, 5.0, "lowpass", fs=fs, output="sos")
    _, h = signal.sosfreqz(sos, worN=[5.0, 10.0], fs=fs)
    gain = 20 * np.log10(np.abs(h))
    assert gain[0] == pytest.approx(-3.01, abs=0.05)
    assert gain[1] < -30  # an octave above: about 6 dB per order
    # and on a signal: the RMS feature of a sine at the cutoff, in steady state, is 1/sqrt(2) of the input's
    t = np.arange(4000) / fs
    x = np.sin(2 * np.pi * 5.0 * t).astype(np.float32).reshape(-1, 1)
    long_block = get_block("spectral").configure({"filter_cutoff": 5.0}, fs, 4000, 1)
    rms = long_block.run(x)[0]
    assert rms == pytest.approx(np.sqrt(0.5) / np.sqrt(2), rel=0.03)
    assert block.shape == (1 + 4,)


def test_spectral_peaks_find_the_motion_frequency():
    fs = 100.0
    t = np.arange(200) / fs
    x = np.stack([np.sin(2 * np.pi * 2.0 * t), np.sin(2 * np.pi * 7.0 * t)], 1).astype(np.float32)
    out = get_block("spectral").configure({"features": "peaks", "filter_type": "none", "fft_length": 200,
                                           "overlap": False}, fs, 200, 2).run(x).reshape(2, -1)
    assert out[0, 1] == pytest.approx(2.0) and out[1, 1] == pytest.approx(7.0)


def test_flatten_matches_scipy_statistics():
    x = np.random.default_rng(3).gamma(2.0, size=(500, 2)).astype(np.float32)
    out = get_block("flatten").configure({}, 100, 500, 2).run(x).reshape(2, 7)
    for a in range(2):
        col = x[:, a].astype(np.float64)
        expected = [col.mean(), col.min(), col.max(), np.sqrt((col ** 2).mean()), col.std(),
                    scipy.stats.skew(col), scipy.stats.kurtosis(col)]
        np.testing.assert_allclose(out[a], expected, rtol=1e-4)


def test_raw_scales_and_flattens_frame_by_frame():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_array_equal(get_block("raw").configure({"scale": 2}, 10, 3, 2).run(x), [0, 2, 4, 6, 8, 10])


@pytest.mark.parametrize(
    "block, params, fs, frames, axes, message",
    [
        ("mfcc", {"fft_length": 256}, FS, FS, 1, "FFT length 256 is shorter than the frame"),
        ("mfe", {"num_filters": 128, "fft_length": 512}, FS, FS, 1, "too many for FFT length"),
        ("mfcc", {}, 0, 100, 1, "sampling frequency must be positive"),
        ("mfcc", {}, FS, FS, 3, "takes one axis"),
        ("mfcc", {"frame_length_ms": 2000}, FS, FS, 1, "longer than the window"),
        ("mfcc", {"num_cepstral": 40}, FS, FS, 1, "need at least as many filters"),
        ("spectral", {"filter_cutoff": 80}, 100, 200, 3, "cutoff 80 Hz must be between"),
        ("spectral", {"band_edges": "5,1"}, 100, 200, 3, "increasing"),
        ("spectral", {"fft_length": "abc"}, 100, 200, 3, "fft_length must be a whole number"),
        ("spectral", {"colour": 1}, 100, 200, 3, "unknown parameter"),
        ("mfe", {"high_frequency": 9000}, FS, FS, 1, "above half the rate"),
    ],
)
def test_bad_parameters_give_a_clear_error(block, params, fs, frames, axes, message):
    with pytest.raises(DspError, match=message):
        get_block(block).configure(params, fs, frames, axes)


def test_default_fft_grows_to_hold_the_frame_and_says_so():
    c = get_block("mfcc").configure({}, FS, FS, 1)
    assert c.params["fft_length"] == 512 and "raised from 256 to 512" in c.notes[0]
    assert c.shape == (50, 13)
    assert get_block("mfe").configure({}, 8000, 8000, 1).params["fft_length"] == 256  # 160-sample frames fit
