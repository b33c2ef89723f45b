"""DSP feature blocks (numpy/scipy, float32), written so that each has a direct C port.

Every block is a registry entry: a name, a version, a parameter schema with defaults, and a
documented formula (docs/dsp-blocks.md). Blocks take one window, shape (frames, axes), and the
sampling frequency, and return a float32 feature array whose shape depends only on the
parameters and the window length.
"""
