"""The child-list parser: one pushed body (JSON, CSV or .xlsx) to typed rows and a report.

Pure: no HTTP and no database. ``ingest`` runs the whole of it, ``isolated`` runs ``ingest`` in
a sandboxed worker process, ``types`` holds what it takes and gives back (limits, context,
problems, the result, the errors the caller maps to status codes). The stages, in order:
``tables`` (body to a table of text, with ``xlsx`` and ``headings``), ``normalise`` (text to
typed values), ``validation`` (the theme's rules as ``checks``). Import each name from the
module that defines it: this package re-exports nothing.
"""
