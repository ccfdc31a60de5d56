"""``jtai client``: the command-line client agencies and inspectors script their bulk work with.

It talks to the API over HTTP only (httpx), so it runs anywhere the service is reachable and
imports nothing of the server.
"""
