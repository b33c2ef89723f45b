"""Exporting a training run: firmware projects, capture firmware and C libraries, and their PlatformIO environments."""
