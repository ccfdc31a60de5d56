"""What a route tells the Idempotency-Key middleware about itself, declared on the endpoint.

``not_replayable``: the route's successful answer carries a secret (a client secret, an
access token). Such an answer is never stored; a retry with the same key is told so (409
``not_replayable``, with the reason given here) rather than handed the secret again.

The mark is an attribute on the endpoint function, which the router leaves in the request's
scope once it has chosen the route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_NOT_REPLAYABLE = "__idempotency_not_replayable__"


def not_replayable(reason: str) -> Callable[[F], F]:
    """Mark a route whose successful answer must never be stored; ``reason`` tells a retry why."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _NOT_REPLAYABLE, reason)
        return endpoint

    return mark


def not_replayable_reason(endpoint: object) -> str | None:
    reason = getattr(endpoint, _NOT_REPLAYABLE, None)
    return reason if isinstance(reason, str) else None
