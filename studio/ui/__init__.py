"""The desktop views (PySide6 + pyqtgraph): thin, bound to core objects, one module per page."""
