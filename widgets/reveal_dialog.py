"""Who reveals personal data, and why: asked once per session before the first reveal."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from layers.i18n import tr


class RevealDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("reveal_title"))
        self.explain = QLabel(tr("reveal_explain"))
        self.explain.setWordWrap(True)
        self.operator = QLineEdit()
        self.operator.setMaxLength(40)
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        self.reason.setMinimumWidth(360)
        self.reason.setPlaceholderText(tr("reveal_reason_hint"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(self.explain)
        form.addRow(tr("reveal_operator"), self.operator)
        form.addRow(tr("reveal_reason"), self.reason)
        form.addRow(self.buttons)
        for edit in (self.operator, self.reason):
            edit.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        ok = bool(self.operator.text().strip()) and len(self.reason.text().strip()) >= 2
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def values(self) -> tuple[str, str]:
        return self.operator.text(), self.reason.text()
