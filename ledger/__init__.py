"""A claim-and-response fact ledger."""

__version__ = "0.1.0"
