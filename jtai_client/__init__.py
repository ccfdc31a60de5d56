"""``jtai client``: the command-line client agencies and inspectors script their bulk work with.

A package of its own beside the server (``app``): it talks to the API over HTTP only (httpx),
so it runs anywhere the service is reachable and imports nothing of the server
(``tests/client/test_boundary.py`` holds it to that). ``app.cli`` mounts its Typer app as
``jtai client``.
"""
