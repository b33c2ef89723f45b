"""The project store: one portable folder holding config, SQLite index and sample files."""

from studio.project.errors import NeedsRepair, ProjectError
from studio.project.sample import Sample
from studio.project.store import Project

__all__ = ["NeedsRepair", "Project", "ProjectError", "Sample"]
