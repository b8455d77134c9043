"""What a valid event is, and how a table row's state is compared with its logged one.

Pure functions: no SQL. `ledger.store.replay` streams the log and the tables through them.

The shape of each entity's logged state is the signature of its state function in
`ledger.shapes` (the same functions the writers call): the keyword names are the fields, the
type hints say what each may hold. A field the state function gained later is missing from
older events; a missing field reads as None, so an older event still verifies and still
compares equal to a row whose new column is empty.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger import shapes

STATE_FUNCTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "person": shapes.person_state,
    "source": shapes.source_state,
    "link": shapes.link_state,
    "claim": shapes.claim_state,
    "attribution": shapes.attribution_state,
    "response": shapes.response_state,
    "reply": shapes.reply_state,
    "review": shapes.review_state,
}
"""Every entity the log records, and the state function that gives its shape."""

ENTITIES = frozenset(STATE_FUNCTIONS)
ACTIONS = frozenset({"add", "edit", "minor-edit", "merge", "recapture", "retract",
                     "approve", "reject", "hold", "release"})
"""Every action an event may carry."""

_AT = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}Z"
)
AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _fields(function: Callable[..., Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(function)
    hints.pop("return", None)
    return hints


SHAPES: dict[str, dict[str, Any]] = {
    entity: _fields(function) for entity, function in STATE_FUNCTIONS.items()
}
"""For each entity, its state's fields and their type hints."""


def _checker(hint: Any) -> Callable[[Any], bool]:
    """A fast predicate for whether parsed JSON fits the type hint `hint` (built once per
    field, so validating an event does no introspection)."""
    if hint is Any:
        return lambda value: True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = (
            _checker(options[0])
            if len(options) == 1
            else (
                lambda value, checks=[_checker(o) for o in options]: any(c(value) for c in checks)
            )
        )
        if len(options) < len(typing.get_args(hint)):
            return lambda value: value is None or inner(value)
        return inner
    if hint is type(None):
        return lambda value: value is None
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        check = _checker(item)
        return lambda value: type(value) is list and all(check(v) for v in value)
    if origin is dict or hint is dict:
        return lambda value: type(value) is dict
    if hint is bool:
        return lambda value: type(value) is bool
    if hint is int:
        return lambda value: type(value) is int
    if hint is float:
        return lambda value: type(value) in (int, float)
    if hint is str:
        return lambda value: type(value) is str
    if isinstance(hint, type):
        return lambda value: isinstance(value, hint)
    return lambda value: True


_CHECKS: dict[str, list[tuple[str, Callable[[Any], bool]]]] = {
    entity: [(name, _checker(hint)) for name, hint in shape.items()]
    for entity, shape in SHAPES.items()
}


def _describe(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("NoneType", "None")


def valid_at(value: Any) -> bool:
    """Whether `value` is a UTC time as the log writes it: 2026-01-01T00:00:00.000000Z."""
    if type(value) is not str or not _AT.fullmatch(value):
        return False
    if value[8:10] <= "28":  # every month has the day; only the rest needs the calendar
        return True
    try:
        datetime.strptime(value, AT_FORMAT)
    except ValueError:
        return False
    return True


class EventValidator:
    """Checks each event in sequence order; remembers the previous event's time.

    Call it with an event row (its `at`, `action`, `entity` and `uid`) and its parsed state;
    it returns what is wrong, or None.
    """

    def __init__(self) -> None:
        self.previous_at: str | None = None

    def __call__(self, row: Any, state: Any) -> str | None:
        problem = self._problem(row, state)
        if problem is None:
            self.previous_at = row.at
        return problem

    def _problem(self, row: Any, state: Any) -> str | None:
        # A bulk import records every event at one time: the same time as the event before
        # it is valid and in order, so only a new time is parsed and compared.
        if row.at != self.previous_at:
            if not valid_at(row.at):
                return (
                    f"its time {row.at!r} is not a UTC timestamp in the ledger's format "
                    "(YYYY-MM-DDTHH:MM:SS.ffffffZ)"
                )
            if self.previous_at is not None and row.at < self.previous_at:
                return f"its time {row.at} is earlier than the event before it ({self.previous_at})"
        if row.action not in ACTIONS:
            return f"its action {row.action!r} is not one of {', '.join(sorted(ACTIONS))}"
        if row.entity not in ENTITIES:
            return f"its entity {row.entity!r} is not one of {', '.join(sorted(ENTITIES))}"
        on_behalf = getattr(row, "on_behalf", None)
        if on_behalf is not None and (not on_behalf.strip() or not on_behalf.isprintable()):
            return f"its on-behalf-of {on_behalf!r} is empty or not one printable line"
        return state_problem(row.entity, row.uid, state)


_LIST_CHECKS: dict[str, list[tuple[str, Callable[[Any], bool]]]] = {
    entity: [
        (name, check)
        for (name, check), hint in zip(_CHECKS[entity], SHAPES[entity].values(), strict=True)
        if "list" in str(hint)
    ]
    for entity in SHAPES
}
_SOUND: set[tuple[Any, ...]] = set()  # (entity, keys, value types) already found sound


def state_problem(entity: str, uid: str, state: Any) -> str | None:
    """What is wrong with a logged state for a record of `entity` with `uid`, or None.

    States of one entity share a handful of layouts (which fields are null), so a layout found
    sound once is recognised by its keys and value types; only list items are checked again.
    """
    if type(state) is not dict:
        return f"its state is not an object of the {entity} shape"
    layout = (entity, tuple(state), tuple(map(type, state.values())))
    if layout in _SOUND:
        for name, check in _LIST_CHECKS[entity]:
            if not check(state.get(name)):
                return _wrong(entity, name, state.get(name))
    else:
        if not state.keys() <= SHAPES[entity].keys():
            unknown = sorted(set(state) - set(SHAPES[entity]))
            return f"its state has field(s) a {entity} does not have: {', '.join(unknown)}"
        get = state.get
        for name, check in _CHECKS[entity]:
            if not check(get(name)):
                return _wrong(entity, name, get(name))
        if len(_SOUND) < 10_000:
            _SOUND.add(layout)
    if state.get("uid") != uid:
        return f"its state's uid {state.get('uid')!r} is not the event's uid {uid!r}"
    return None


def _wrong(entity: str, name: str, value: Any) -> str:
    return f"its state's {name} is {value!r}, which is not {_describe(SHAPES[entity][name])}"


def logged_state(entity: str, uid: str, text: str) -> dict[str, Any] | None:
    """A stored state parsed for a reader, or None when it is not an object of its shape.

    Readers (`ledger log`, the ClaimReview export) call this and name the event instead of
    failing on it; `ledger verify` says exactly what is wrong.
    """
    import json

    try:
        state = json.loads(text)
    except (ValueError, TypeError):
        return None
    if entity in SHAPES and state_problem(entity, uid, state) is not None:
        return None
    return state if isinstance(state, dict) else None


def differences(logged: dict[str, Any], found: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, logged value, value found) for each field where a row differs from its event.

    A field the logged state lacks counts as None (the event predates the field).
    """
    return [
        (name, logged.get(name), value)
        for name, value in found.items()
        if logged.get(name) != value
    ]
