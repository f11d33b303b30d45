"""The rules every other folder shares: newsie's error classes and secret redaction.

Private: use the names `newsie` exports."""
