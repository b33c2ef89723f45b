"""Sample file formats: Edge Impulse data acquisition (JSON, CBOR), CSV and WAV.

Parsers raise :class:`FormatError` with a one-line reason; callers prefix the file name.
"""

from studio.formats.errors import FormatError

__all__ = ["FormatError"]
