"""The Deploy step: on-device estimates against chosen boards (``estimates_view``, ``estimate_cards``), then
export, build, flash and monitor for one board (``deploy_view``, ``flash_panel``, ``live_results``)."""

from studio.ui.pages.deploy.page import DeployPage

__all__ = ["DeployPage"]
