"""The shape of one deep-dive theme file (``app/themes/data/*.yaml``), one module per consumer.

``theme`` holds the whole document (``Theme``) and the checks across its parts. The parts sit in
modules named for what reads them: ``lists`` and ``rules`` (the child lists and their checks),
``selections``, ``schedule``, ``document_requests`` and ``evaluations`` (tracking questions and
ESN criteria); ``base`` is the vocabulary they share. Import each name from the module that
defines it: this package re-exports nothing.
"""
