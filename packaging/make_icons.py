"""Render assets/icons/kapsession.svg to the PNG sizes desktops ask for (run after editing it):
`.venv/bin/python packaging/make_icons.py`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "assets" / "icons"
SIZES_PX = (32, 48, 128, 256)


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "kapsession.svg"))
    if not renderer.isValid():
        print("make_icons: kapsession.svg does not parse", file=sys.stderr)
        return 1
    for size in SIZES_PX:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"kapsession-{size}.png"))
    print(f"make_icons: wrote {', '.join(f'kapsession-{s}.png' for s in SIZES_PX)} in {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
