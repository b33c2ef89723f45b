"""The board catalogue: one JSON file per board in ``resources/boards/``, validated on load."""

from studio.boards.registry import CORES, CORTEXM_PLATFORM, HOST_PLATFORM, Board, BoardError, get_board, load_boards

__all__ = ["CORES", "CORTEXM_PLATFORM", "HOST_PLATFORM", "Board", "BoardError", "get_board", "load_boards"]
