"""A long list whose cost per change does not grow with its length.

QListView lays out every row after any change (asking each row's height), so appending to a
list of a thousand rows costs a thousand height calculations. A QTreeView with one level and
no header, scrolled a row at a time, asks the heights of the rows in sight only; these
helpers set one up and keep the one QTreeView habit that would undo it (see `FlatRows`).
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QTreeView


class FlatRows:
    """Mixed into a QTreeView subclass (before it): the vertical offset in rows.

    QTreeView scrolling a row at a time works out its offset in pixels by adding up the
    height of every row above the top one, asking the delegate for each after any change.
    On a flat list the only callers are the style sheet's background on every repaint (a
    plain colour, which no offset moves) and drag and touch selection, which these lists do
    not do; so the offset is given in rows, as the scroll bar counts it."""

    def verticalOffset(self) -> int:
        assert isinstance(self, QTreeView)
        return self.verticalScrollBar().value()


def make_flat(view: QTreeView) -> None:
    """One level, no header or branch decoration, rows of their own heights, scrolled a row
    at a time (the view then needs the heights of the rows in sight only)."""
    view.setHeaderHidden(True)
    view.setRootIsDecorated(False)
    view.setItemsExpandable(False)
    view.setIndentation(0)
    view.setUniformRowHeights(False)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
