"""Each operation's description ends with who may call it, what it changes and its errors,
written from the declared access policy and the declared responses: never a second text to
keep in step with ``app.auth.policy`` by hand."""

from __future__ import annotations

from typing import Any

from app.auth.policy import POLICY, OperatorReach, Relation, Rule
from app.auth.roles import ROLE_SCOPES, Scope

# Operations reached without a token (their routes declare ``security: []``).
PUBLIC = "Anyone: no token."

RELATIONS = {
    Relation.PARTICIPANT: "and must take part in the inspection (the operator, an agency "
    "taking part, or an inspector on its team); any other caller is answered 404, as if "
    "the inspection did not exist",
    Relation.LEAD: "and must be the inspection's named lead inspector (other participants "
    "403, anyone else 404)",
    Relation.LEAD_OR_OPERATOR: "and must be the inspection's named lead inspector or the "
    "operator (other participants 403, anyone else 404)",
}

REACHES = {
    OperatorReach.ANYWHERE: "An organisation's own administrators (`org_admin`) act on its "
    "clients only (another organisation's answer 404); the operator anywhere.",
    OperatorReach.FIRST_ADMINISTRATOR: "An organisation's own administrators make its "
    "clients; the operator makes only platform clients and an organisation's first "
    "administrator (anything else 403).",
    OperatorReach.PLATFORM: "An organisation's own administrators rotate its clients' "
    "secrets; the operator only the platform's own (a rotation hands the secret over).",
}


def roles_granting(scope: Scope) -> list[str]:
    return sorted(role.value for role, scopes in ROLE_SCOPES.items() if scope in scopes)


def who_may_call(rule: Rule) -> str:
    roles = ", ".join(f"`{role}`" for role in roles_granting(rule.scope))
    text = f"Roles granting `{rule.scope.value}` ({roles})"
    if rule.relation is not None:
        text += ", " + RELATIONS[rule.relation]
    text += "."
    if rule.conceal:
        text += " Callers without the scope are answered 404, not 403: they are not told "
        text += "these records exist."
    else:
        text += " A caller whose roles lack the scope: 403."
    if rule.summary:
        text += f" ({rule.summary[0].upper()}{rule.summary[1:]}.)"
    if rule.clients is not None:
        text += " " + REACHES[rule.clients]
    return text


def what_it_changes(rule: Rule | None, method: str) -> str:
    if rule is None:
        return "Nothing kept about the inspection." if method == "get" else "Issues a token."
    if not rule.writes:
        return "Nothing: a read."
    text = "Writes (what the summary says)."
    if rule.relation is not None or rule.scope is Scope.DOCUMENTS_WRITE:
        text += " Refused with 409 `inspection_closed` once the inspection is closed."
    return text


def errors_of(operation: dict[str, Any]) -> str:
    listed = [
        f"{status} ({response.get('description', '').rstrip('.')})"
        for status, response in sorted(operation.get("responses", {}).items())
        if status[:1] in {"4", "5"}
    ]
    return "; ".join(listed) + ". Every error is problem+json with a stable `code`."


def describe(operation: dict[str, Any], method: str) -> None:
    """What it does (the summary, then the route's own description), then who may call it,
    what it changes and its errors."""
    rule = POLICY.get(operation["operationId"])
    public = operation.get("security") == []
    who = PUBLIC if public or rule is None else who_may_call(rule)
    does = [operation.get("summary", ""), operation.get("description", "")]
    operation["description"] = "\n\n".join(
        [
            *(text.rstrip(".") + "." for text in does if text),
            f"**Who may call**: {who}",
            f"**Changes**: {what_it_changes(rule, method)}",
            f"**Errors**: {errors_of(operation)}",
        ]
    )
