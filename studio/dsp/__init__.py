"""DSP feature blocks (numpy/scipy, float32), written so that each has a direct C port.

Every block is a registry entry (``studio.dsp.registry``): a name, a version, a parameter schema with
defaults, a documented formula (docs/dsp-blocks.md), the names of its features and its C port. Blocks take one
window, shape (frames, axes), and the sampling frequency, and return a float32 feature array whose shape
depends only on the parameters and the window length.

Importing the package registers the built-in blocks, one module each (a new block is a new module here).
"""

# the order of registration is the order the app lists the blocks in
# isort: off
from studio.dsp import block_basic
from studio.dsp import block_spectral
from studio.dsp import block_audio

# isort: on
BUILT_IN = (block_basic, block_spectral, block_audio)
