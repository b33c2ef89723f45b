"""The frozen app's entry script (PyInstaller, installer/tinyml-studio.spec): the ``tinyml-studio`` command, or a
Python interpreter when PlatformIO or SCons call the executable as one (``studio.frozen``)."""

import sys

from studio.frozen import main

if __name__ == "__main__":
    sys.exit(main())
