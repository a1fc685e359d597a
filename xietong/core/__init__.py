"""Core: regions, organisations, employers, people, accounts, scoped permissions and the audit log."""
