"""The bulk importer lives in the store now (`ledger.store.bulk`): one write path.

Kept so that `from ledger.io.importer import Importer` goes on working.
"""

from ledger.store.bulk import DERIVED, FIELDS, TYPES, Importer, ImportResult

__all__ = ["DERIVED", "FIELDS", "TYPES", "ImportResult", "Importer"]
