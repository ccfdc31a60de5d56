"""Placeholder: filled in by the events work (issue 17)."""
