"""The right of reply: whether a reply request was answered, is pending or is overdue.

One definition, used by the dossier and the audit alike. An answer is a response by the
addressee of any kind except `no-response`: that kind records silence, so a request with
only a `no-response` response is not answered, and once its deadline has passed it is
overdue (the dossier says "no response by the deadline" and the audit warns
`reply-overdue`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ledger.values import PartialDate

# Response kinds that do not answer a reply request: they record silence.
NOT_AN_ANSWER = frozenset({"no-response"})


@dataclass(frozen=True)
class ReplyStatus:
    """What came of one reply request."""

    state: str  # answered, pending or overdue
    answered_on: str | None  # the earliest dated answer on or after the day it was sent
    late: bool  # answered, but after the deadline

    @property
    def answered(self) -> bool:
        return self.state == "answered"

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"


def _earliest(value: str) -> date:
    return PartialDate(value).earliest()


def reply_status(
    *,
    sent: str,
    deadline: str | None,
    responses: Iterable[tuple[str, str | None]],
    today: date | str | None,
) -> ReplyStatus:
    """The status of a request sent on `sent`, given the addressee's responses as
    (kind, date) pairs and the day it is judged on (None: never overdue).

    >>> reply_status(sent="2023-03-21", deadline="2023-03-22",
    ...              responses=[("no-response", None)], today="2023-04-01").state
    'overdue'
    >>> reply_status(sent="2023-03-21", deadline="2023-03-22",
    ...              responses=[("denial", "2023-03-23")], today="2023-04-01").late
    True
    """
    answers = [day for kind, day in responses if kind not in NOT_AN_ANSWER]
    if answers:
        dated = sorted(
            (day for day in answers if day and _earliest(day) >= _earliest(sent)), key=_earliest
        )
        answered_on = dated[0] if dated else None
        late = bool(answered_on and deadline and _earliest(answered_on) > _earliest(deadline))
        return ReplyStatus("answered", answered_on, late)
    reference = today.isoformat() if isinstance(today, date) else today
    passed = bool(deadline and reference and PartialDate(deadline).latest().isoformat() < reference)
    return ReplyStatus("overdue" if passed else "pending", None, False)
