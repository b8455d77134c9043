"""Reading and writing ledgers as files: the bundle (JSONL, JSON, YAML)."""
