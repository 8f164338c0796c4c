"""End-to-end tests: real app processes. The in-process part needs Qt without a display."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the QApplication is made
