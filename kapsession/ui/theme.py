"""The dark, low-glare room theme: warm greys, muted colours, nothing bright or flashing."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#131517"
PANEL = "#1b1e21"
PANEL_RAISED = "#23272b"
BORDER = "#2e3338"
TEXT = "#d9d4ca"
TEXT_DIM = "#8e8a82"
TEXT_FAINT = "#5f5c57"
ACCENT = "#7f9cb8"  # quiet blue for focus and selection
# The keys' place: every control that has them shows this ring, the highlighted ones too
# (an object name's rule, #primary, outranks a plain :focus one, so each is named).
FOCUS = ACCENT
DUE = "#c9a25a"  # muted amber: a check-in is due
OVERDUE = "#c9705d"  # muted brick: overdue or an alert, never pure red
DONE = "#7d9e86"  # grey-green: done
TRAINING = "#8a6fb0"  # training mode mark

PHASE_COLOURS = ("#2b3a4a", "#33404f", "#3a3550", "#43344a", "#3a4147", "#30433d", "#3d4035")

STYLESHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 15px; }}
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QFrame#panel {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 8px; }}
QLabel {{ background: transparent; }}
QLabel#dim {{ color: {TEXT_DIM}; }}
QLabel#heading {{ color: {TEXT_DIM}; font-size: 13px; letter-spacing: 1px; }}
QLabel#clock {{ font-size: 54px; font-weight: 300; }}
QLabel#doseClock {{ font-size: 36px; font-weight: 300; color: {TEXT}; }}
QLabel#phase {{ font-size: 26px; }}
QLabel#phaseName {{ font-size: 20px; }}
QLabel#training {{ background: {TRAINING}; color: #f2eefa; font-weight: bold;
    padding: 4px 12px; border-radius: 4px; }}
QLabel#banner {{ background: #2a2320; color: {TEXT}; border: 1px solid {OVERDUE};
    border-radius: 6px; padding: 8px 12px; }}
QLabel#notice {{ color: {TEXT_DIM}; font-size: 13px; }}
QPushButton {{ background: {PANEL_RAISED}; border: 1px solid {BORDER}; border-radius: 6px;
    padding: 9px 16px; color: {TEXT}; }}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:disabled {{ color: {TEXT_FAINT}; }}
QPushButton#primary {{ background: #2c3a47; border-color: #3f5468; }}
QPushButton:focus, QPushButton#primary:focus, QPushButton#booster:focus {{
    border: 2px solid {FOCUS}; }}
QLineEdit, QComboBox, QListWidget, QPlainTextEdit, QDateEdit, QSpinBox {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 6px; padding: 6px;
    selection-background-color: #34495e; selection-color: {TEXT}; }}
QLineEdit:focus, QComboBox:focus, QListWidget:focus, QPlainTextEdit:focus, QDateEdit:focus,
QSpinBox:focus, QTextEdit:focus, QTableView:focus, QListView:focus {{
    border: 2px solid {FOCUS}; }}
QTabBar::tab:focus {{ color: {FOCUS}; text-decoration: underline; }}
QSlider {{ border: 1px solid transparent; border-radius: 4px; }}
QSlider:focus {{ border-color: {FOCUS}; }}
QListWidget::item {{ padding: 8px; border-radius: 4px; }}
QListWidget::item:selected {{ background: #2c3a47; }}
QCheckBox {{ background: transparent; spacing: 8px; }}
QCheckBox::indicator {{ width: 12px; height: 12px; border-radius: 4px; padding: 2px;
    border: 1px solid {TEXT_DIM}; background: {PANEL}; }}
QCheckBox::indicator:checked {{ border: 2px solid {ACCENT}; background: {ACCENT};
    background-clip: content; padding: 1px; }}
QCheckBox::indicator:focus {{ border: 2px solid {ACCENT}; padding: 1px; }}
QCheckBox:focus {{ color: {ACCENT}; }}
QStatusBar {{ color: {TEXT_DIM}; }}
QToolTip {{ background: {PANEL_RAISED}; color: {TEXT}; border: 1px solid {BORDER}; }}
"""


def apply_room_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, BACKGROUND),
        (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Base, PANEL),
        (QPalette.ColorRole.AlternateBase, PANEL_RAISED),
        (QPalette.ColorRole.Text, TEXT),
        (QPalette.ColorRole.Button, PANEL_RAISED),
        (QPalette.ColorRole.ButtonText, TEXT),
        (QPalette.ColorRole.Highlight, "#34495e"),
        (QPalette.ColorRole.HighlightedText, TEXT),
        (QPalette.ColorRole.PlaceholderText, TEXT_FAINT),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSizeF(max(font.pointSizeF(), 11.0))
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
