"""The bundle's entry script: the same entry point as the installed `kapsession` command."""

import sys

from kapsession.__main__ import main

sys.exit(main())
