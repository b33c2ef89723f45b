"""The project store: one portable folder holding config, SQLite index and sample files."""

from studio.project.errors import ProjectError
from studio.project.store import Project, Sample

__all__ = ["Project", "ProjectError", "Sample"]
