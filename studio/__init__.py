"""TinyML Studio: a local, offline tool for putting machine learning on microcontrollers.

Everything under ``studio`` except ``studio.ui`` is the Qt-free core; importing it never
imports PySide6, pyqtgraph or TensorFlow.
"""

__version__ = "0.1.0"
