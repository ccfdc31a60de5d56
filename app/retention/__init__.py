"""Retention: purging a closed inspection's child data, leaving a tombstone and the audit chain."""
