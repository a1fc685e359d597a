"""Django settings: ``base`` (embedded default, SQLite), ``test`` and ``production`` (12-factor)."""
