"""The board catalogue: one JSON file per board in ``resources/boards/``, validated on load."""

from studio.boards.registry import CORES, Board, BoardError, get_board, load_boards

__all__ = ["CORES", "Board", "BoardError", "get_board", "load_boards"]
