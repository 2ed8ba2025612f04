"""The small form of an annotation: its kind (临时管控区, 卡点, 集结点, 其他) and a note."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)

from data.annotations import MAX_NOTE, PURPOSES
from layers.i18n import code_label, tr


class AnnotationDialog(QDialog):
    def __init__(self, purpose: str = "other", note: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("ann_dialog_title"))
        self.purpose = QComboBox()
        for p in PURPOSES:
            self.purpose.addItem(code_label("annotation_purpose", p), p)
        self.purpose.setCurrentIndex(PURPOSES.index(purpose) if purpose in PURPOSES else 0)
        self.note = QLineEdit(note)
        self.note.setMaxLength(MAX_NOTE)
        self.note.setMinimumWidth(320)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(tr("ann_purpose"), self.purpose)
        form.addRow(tr("ann_note"), self.note)
        form.addRow(buttons)

    def values(self) -> tuple[str, str]:
        return str(self.purpose.currentData()), self.note.text()
