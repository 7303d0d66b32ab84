"""`/openapi.json`, generated from the declared operations and their msgspec types."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from app.api.endpoint import Operation
from app.api.idempotency import OPENAPI_PARAMETER as IDEMPOTENCY_KEY
from app.schemas.common import ErrorBody

REASONS = {
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict (stale version or duplicate)",
    413: "Body too large",
    422: "Invalid input",
    429: "Too many requests",
}


def build_spec(operations: list[Operation], prefix: str, title: str) -> dict[str, Any]:
    types: list[Any] = [ErrorBody]
    for op in operations:
        types += [t for t in (op.body, op.response, op.query) if t is not None]
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    refs = dict(zip(map(id, types), schemas, strict=True))
    error = {"content": {"application/json": {"schema": refs[id(ErrorBody)]}}}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        item: dict[str, Any] = {
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": op.handler.__name__,
        }
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", op.path)
        ]
        if op.query is not None:
            # Each field a parameter; the types they name (enums and the like) are components.
            query = components[refs[id(op.query)]["$ref"].rsplit("/", 1)[1]]
            required = set(query.get("required", ()))
            params += [
                {"name": k, "in": "query", "required": k in required, "schema": v}
                for k, v in query.get("properties", {}).items()
            ]
        if op.idempotent:
            params.append(IDEMPOTENCY_KEY)
        if params:
            item["parameters"] = params
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[id(op.body)]}},
            }
        ok: dict[str, Any] = {"description": "OK"}
        if op.response is not None:
            ok["content"] = {"application/json": {"schema": refs[id(op.response)]}}
        if op.stream is not None:
            ok["content"] = {
                "text/event-stream": {"schema": {"type": "string", "description": op.stream}}
            }
        responses: dict[str, Any] = {str(op.status): ok}
        if op.auth:
            responses["401"] = {"description": REASONS[401], **error}
        for status in op.errors:
            responses[str(status)] = {"description": REASONS.get(status, "Error"), **error}
        if op.body is not None:
            responses["413"] = {"description": REASONS[413], **error}
        if op.body is not None or op.query is not None:  # one that cannot be read is refused
            responses.setdefault("422", {"description": REASONS[422], **error})
        if op.idempotent:  # a key in use (409) or reused with another body (422)
            for status in (409, 422):
                responses.setdefault(str(status), {"description": REASONS[status], **error})
        item["responses"] = responses
        if op.auth:
            item["security"] = [{"session": []}, {"token": []}]
        paths.setdefault(prefix + op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "tandem_session",
                    "description": "Unsafe methods also need the X-CSRF-Token header",
                },
                "token": {"type": "http", "scheme": "bearer"},
            },
        },
    }
