"""Revealing personal data on a desk workstation, audited (principle 6 of design.md).

A ``Revealer`` belongs to one session. It refuses to exist for a session that may not
reveal (``CockpitSession.can_reveal`` is False unless a desk window made the session: a
wall's never can), refuses every reveal until an operator has given a name and a reason
(asked once per session), and writes exactly one line to the audit log for each value it
reveals (who: the operator and the login, when, what record and field, why). If that line
cannot be written, nothing is revealed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from data.reveal import read_personal
from exporters.audit import audit
from layers.i18n import tr
from widgets.details_panel import DetailsPanel

from .session import CockpitSession

MIN_REASON = 2
"""Characters a reason needs at least ("核查" is a reason; "" or " " is not)."""


class RevealRefused(Exception):
    """Nothing was revealed (no operator or reason, a wall, or the audit log failed)."""


class Revealer:
    def __init__(self, session: CockpitSession) -> None:
        if not session.can_reveal:
            raise RevealRefused("personal data cannot be revealed here")
        self.session = session
        self.operator: str | None = None
        self.reason: str | None = None

    @property
    def authorised(self) -> bool:
        return bool(self.operator and self.reason)

    def authorise(self, operator: str, reason: str) -> None:
        """The operator's name and the reason, for the rest of the session."""
        operator, reason = " ".join(operator.split()), " ".join(reason.split())
        if not operator:
            raise ValueError(tr("reveal_need_operator"))
        if len(reason) < MIN_REASON:
            raise ValueError(tr("reveal_need_reason"))
        self.operator, self.reason = operator, reason

    def reveal(self, table: str, record_id: str, field: str) -> str | None:
        """The unmasked value of one field; one audit line. RevealRefused when not allowed."""
        s = self.session
        if not s.can_reveal:
            raise RevealRefused("personal data cannot be revealed here")
        if not self.authorised:
            raise RevealRefused(tr("reveal_need_reason"))
        ex = s.extract
        if ex is None:
            raise RevealRefused("no extract is open")
        value = read_personal(ex, table, record_id, field)
        written = audit("reveal", {"extract": str(ex.path), "operator": self.operator,
                                   "reason": self.reason, "table": table, "record": record_id,
                                   "field": field, "region": ex.region_name,
                                   "empty": value is None}, None)
        if not written:
            raise RevealRefused(tr("reveal_audit_failed"))
        return value


Ask = Callable[[], "tuple[str, str] | None"]


class RevealController(QObject):
    """Wires the details and dispatch card's reveal buttons to a ``Revealer``.

    ``ask`` asks the operator's name and the reason (the dialog; tests put a function
    there). ``revealed(table, id, field)`` after each reveal, ``message(text)`` when one
    was refused.
    """

    revealed = Signal(str, str, str)
    message = Signal(str)

    def __init__(self, session: CockpitSession, details: DetailsPanel, ask: Ask) -> None:
        super().__init__(details)
        self.revealer = Revealer(session)
        self.details = details
        self.ask = ask
        details.reveal_enabled = True
        details.reveal_requested.connect(self.reveal)

    def reveal(self, table: str, record_id: str, field: str) -> bool:
        r = self.revealer
        if not r.authorised:
            answer = self.ask()
            if answer is None:
                return False
            try:
                r.authorise(*answer)
            except ValueError as exc:
                self.message.emit(str(exc))
                return False
        try:
            value = r.reveal(table, record_id, field)
        except RevealRefused as exc:
            self.message.emit(str(exc))
            return False
        self.details.show_revealed(table, record_id, field, value)
        self.revealed.emit(table, record_id, field)
        return True
