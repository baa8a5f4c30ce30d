"""The canvas panel's right column: the staging area (shown candidate, all candidates, prev/next, accept, save,
discard) and the history of accepted results. Shows a ``CanvasState``; the panel connects the buttons."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from ...staging import Candidate
from ...widgets.pixmaps import unit_to_pixmap
from .model import CanvasState


def _icon_list(icon: int, height: int, wrap: bool) -> QListWidget:
    lst = QListWidget()
    lst.setViewMode(QListWidget.ViewMode.IconMode)
    lst.setFlow(QListWidget.Flow.LeftToRight)
    lst.setWrapping(wrap)
    lst.setIconSize(QSize(icon, icon))
    lst.setFixedHeight(height)
    lst.setMovement(QListWidget.Movement.Static)
    return lst


class StagingView(QWidget):
    """Staging area and history. Signals: ``rowChosen(int)`` (a candidate clicked in the list),
    ``historyChosen(int)`` (a history entry double-clicked: its index in ``StagingArea.history``)."""

    rowChosen = Signal(int)
    historyChosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        right = QVBoxLayout(self)
        right.setContentsMargins(0, 0, 0, 0)
        st = QGroupBox("Staging area")
        sl = QVBoxLayout(st)
        self.stage_view = QLabel("no candidates yet: draw, then Generate")
        self.stage_view.setFixedSize(232, 232)
        self.stage_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stage_view.setStyleSheet("background: #1f2126; color: #8a8f99;")
        sl.addWidget(self.stage_view, 0, Qt.AlignmentFlag.AlignHCenter)
        self.stage_label = QLabel("")
        self.stage_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sl.addWidget(self.stage_label)
        self.stage_list = _icon_list(56, 140, wrap=True)
        self.stage_list.currentRowChanged.connect(self.rowChosen)
        sl.addWidget(self.stage_list)
        nav = QHBoxLayout()
        self.prev_btn = QPushButton("◀ Prev")
        self.next_btn = QPushButton("Next ▶")
        nav.addWidget(self.prev_btn)
        nav.addWidget(self.next_btn)
        sl.addLayout(nav)
        acts = QHBoxLayout()
        self.accept_btn = QPushButton("Accept")
        self.accept_btn.setToolTip("put this candidate on the canvas (Undo brings the drawing back); the candidates "
                                   "stay staged")
        self.save_btn = QPushButton("Save PNG…")
        self.discard_btn = QPushButton("Discard")
        self.discard_btn.setToolTip("drop this batch of candidates")
        for b in (self.accept_btn, self.save_btn, self.discard_btn):
            acts.addWidget(b)
        sl.addLayout(acts)
        right.addWidget(st)
        hb = QGroupBox("History")  # short: the column stays narrow at presentation mode's text size
        hb.setToolTip("accepted candidates; double-click one to put it back on the canvas")
        hl = QVBoxLayout(hb)
        self.history_list = _icon_list(48, 90, wrap=False)
        self.history_list.itemDoubleClicked.connect(
            lambda it: self.historyChosen.emit(int(it.data(Qt.ItemDataRole.UserRole))))
        hl.addWidget(self.history_list)
        right.addWidget(hb)
        right.addStretch(1)

    def _item(self, c: Candidate) -> QListWidgetItem:
        it = QListWidgetItem(CanvasState.candidate_name(c) + (" ✓" if c.accepted else ""))
        it.setIcon(unit_to_pixmap(c.image, 2))
        it.setToolTip(CanvasState.candidate_tooltip(c))
        return it

    def show_state(self, state: CanvasState) -> None:
        """Show the staged candidates, the current one large, and enable the buttons."""
        st = state.staging
        n = len(st)
        self.stage_list.blockSignals(True)
        self.stage_list.clear()
        for c in st.candidates:
            self.stage_list.addItem(self._item(c))
        if n:
            self.stage_list.setCurrentRow(st.index)
        self.stage_list.blockSignals(False)
        cur = st.current
        if cur is None:
            self.stage_view.setPixmap(QPixmap())
            self.stage_view.setText("no candidates: draw, then Generate")
        else:
            side = self.stage_view.width() - 8
            self.stage_view.setPixmap(unit_to_pixmap(cur.image, max(1, side // cur.image.shape[1])))
            self.stage_view.setToolTip(CanvasState.candidate_tooltip(cur))
        self.stage_label.setText(state.stage_text())
        for b in (self.prev_btn, self.next_btn, self.accept_btn, self.save_btn, self.discard_btn):
            b.setEnabled(n > 0)

    def add_history(self, c: Candidate, index: int) -> None:
        """Add an accepted candidate (``index`` in the history) to the history strip."""
        it = self._item(c)
        it.setText(CanvasState.candidate_name(c))
        it.setData(Qt.ItemDataRole.UserRole, index)
        self.history_list.addItem(it)
