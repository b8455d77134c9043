"""The ledger's errors: small classes under one `LedgerError`.

The command line turns each into `Error: <message>` on stderr and the exit code it names:
2 for a malformed value, 1 for a reference that does not resolve, a conflict or a failed check.
"""


class LedgerError(Exception):
    """Something the user asked for cannot be done; the ledger is unchanged."""

    exit_code = 1


class InvalidValue(LedgerError):
    """A value is malformed: a bad date, an unknown kind, empty or over-long text."""

    exit_code = 2


class NotFound(LedgerError):
    """A reference (person, source, claim) does not resolve."""


class Ambiguous(LedgerError):
    """A reference matches more than one record."""


class Conflict(LedgerError):
    """The write would contradict what the ledger already holds."""


class SchemaMismatch(LedgerError):
    """The database schema is not the one this version of the ledger expects."""


class ChainBroken(LedgerError):
    """The event log does not verify: its history was rewritten."""


class StateMismatch(LedgerError):
    """The current-state tables differ from what the event log records."""


class ImportFailed(LedgerError):
    """A bundle could not be imported; nothing from it was written."""


class ReadFailed(LedgerError):
    """A file the user named cannot be read."""


class AuditFailed(LedgerError):
    """The audit found errors and `--strict` was given."""


class ReadOnly(LedgerError):
    """The ledger can be read but not written here (file or folder permissions)."""


class ReviewRefused(LedgerError):
    """A review rule refuses the decision (a second pair of eyes, audit errors)."""


class NotPermitted(LedgerError):
    """The login role may not do this (PostgreSQL roles; see `ledger db roles`)."""
