"""JSON Schemas shared by admin routes: the error shape and small building blocks.

Each is plain JSON Schema that is also a valid OpenAPI 3.0 schema object (no nulls: an absent
value is an absent member).
"""

from __future__ import annotations

from typing import Any

from numberpool.core.resource_registry import RESOURCE_ID

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "minLength": 1},
                "message": {"type": "string", "minLength": 1},
                "target": {"type": "string"},
            },
        }
    },
}

TIMESTAMP: dict[str, Any] = {"type": "string", "format": "date-time"}

RESOURCE_ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": f"^{RESOURCE_ID.pattern}$",
    "description": "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit.",
}

ACCESS_KEY: dict[str, Any] = {
    "type": "string", "minLength": 1, "description": "base64; shown only in the answer that issues it",
}
