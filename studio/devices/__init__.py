"""Data sources: serial boards (data-forwarder text and framed binary), the virtual board, the
microphone. Qt-free; the GUI and the CLI both drive them through the capture job."""
