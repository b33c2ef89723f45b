"""Dataset import and export jobs (files in, files out), built on the project store."""
