"""Checkpoint browser: bundled checkpoints, and what the loaded model is and can do."""
from __future__ import annotations

import html
import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)


def human_size(n: int) -> str:
    """Bytes as a short human string (``"1.2 MB"``)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


class CheckpointBrowser(QWidget):
    """Lists bundled checkpoints (double-click loads one) and describes the loaded model.

    Signals:
        loadRequested(name_or_path): the user asked to load a checkpoint.
        openRequested(): Load with no row selected: the window asks for a file or folder.
        refreshRequested(): the user asked to re-read the checkpoint folder.
    """

    loadRequested = Signal(str)
    refreshRequested = Signal()
    openRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        head = QHBoxLayout()
        self.title_label = title = QLabel("<b>Bundled checkpoints</b>")  # "Checkpoints on <server>" when connected
        head.addWidget(title, 1)
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.setToolTip("re-read the checkpoints folder")
        self.refresh_btn.clicked.connect(self.refreshRequested)
        head.addWidget(self.refresh_btn)
        self.load_btn = QPushButton("Load")
        self.load_btn.setToolTip("load the selected checkpoint (or double-click it); with none selected, choose a "
                                 "checkpoint file or diffusers folder")
        self.load_btn.clicked.connect(self._load_selected)
        head.addWidget(self.load_btn)
        lay.addLayout(head)
        split = QSplitter(Qt.Orientation.Vertical)
        lay.addWidget(split, 1)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setHeaderLabels(["Name", "Family", "Data", "Shape", "Size"])
        self.tree.setIndentation(4)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self.loadRequested.emit(item.data(0, Qt.ItemDataRole.UserRole)))
        split.addWidget(self.tree)
        info = QWidget()
        il = QVBoxLayout(info)
        il.setContentsMargins(0, 4, 0, 0)
        self.model_label = QLabel("<b>Loaded model</b>: none")
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        il.addWidget(self.model_label)
        self.caps_label = QLabel("")
        self.caps_label.setWordWrap(True)
        il.addWidget(self.caps_label)
        il.addWidget(QLabel("<b>Metadata</b>"))
        self.meta_view = QPlainTextEdit()
        self.meta_view.setReadOnly(True)
        self.meta_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.meta_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        il.addWidget(self.meta_view, 1)
        split.addWidget(info)
        split.setSizes([200, 400])
        self.infos: list = []
        self._loaded_path = None  # the loaded model's file: its row stays highlighted

    def set_checkpoints(self, infos) -> None:
        """Fill the list from ``list_checkpoints()`` results (CheckpointInfo objects)."""
        self.infos = list(infos)
        self.tree.clear()
        for i in self.infos:
            item = QTreeWidgetItem([i.name, i.family, i.dataset, "×".join(map(str, i.data_shape)),
                                    human_size(i.size_bytes)])
            item.setData(0, Qt.ItemDataRole.UserRole, i.path)
            item.setToolTip(0, f"{i.description}\n{i.path}" if i.description else i.path)
            if getattr(i, "error", ""):  # listed, with its reason, but it cannot be loaded
                item.setText(2, "cannot be loaded")
                item.setForeground(0, QColor("#ff6b6b"))
                item.setToolTip(0, f"{i.error}\n{i.path}")
            self.tree.addTopLevelItem(item)
        if not self.infos:
            item = QTreeWidgetItem(["(none found)", "", "", "", ""])
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.tree.addTopLevelItem(item)
        self.select_path(self._loaded_path)

    def _load_selected(self) -> None:
        item = self.tree.currentItem()
        path = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if path and item.isSelected():
            self.loadRequested.emit(path)
        else:  # nothing chosen in the list: pick a file or folder instead of doing nothing
            self.openRequested.emit()

    def select_path(self, path) -> None:
        """Highlight the row of the checkpoint at ``path`` (none when it is not a bundled one)."""
        target = str(Path(path).resolve()) if path else None
        self.tree.clearSelection()
        for k in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(k)
            p = item.data(0, Qt.ItemDataRole.UserRole)
            if p and target and str(Path(p).resolve()) == target:
                self.tree.setCurrentItem(item)
                item.setSelected(True)
                return
        self.tree.setCurrentItem(None)

    def set_model(self, loaded) -> None:
        """Describe a loaded model (a ``LoadedModel``): name, device, capabilities, samplers, metadata."""
        m = loaded.model
        desc = str(m.metadata.get("description", ""))[:500]
        esc = html.escape  # a checkpoint's text is untrusted: shown as text, never as markup
        self.model_label.setText(f"<b>Loaded model</b>: {esc(str(m.name))} ({esc(m.family)}, {esc(str(m.dataset))}, "
                                 f"{'×'.join(map(str, m.data_shape))}) on {m.device}"
                                 + (f"<br><i>{esc(desc)}</i>" if desc else ""))
        self._loaded_path = getattr(m, "path", None)
        self.select_path(self._loaded_path)
        from ...panels import panels_for
        caps = ", ".join(p.title for p in panels_for(m)) or "none"
        samplers = ", ".join(s.name for s in loaded.samplers) or "none"
        clf = f"yes ({esc(loaded.classifier.name)})" if loaded.classifier is not None else "no"
        what = "Category" if m.dataset == "emoji" else "Digit"  # the data set's judge (backend.judges)
        self.caps_label.setText(f"<b>Can do</b>: {caps}<br><b>Samplers</b>: {samplers}<br>"
                                f"<b>{what} classifier</b>: {clf}")
        self.meta_view.setPlainText(json.dumps(m.metadata, indent=2, sort_keys=False, default=str))
