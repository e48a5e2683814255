"""Errors a client can cause, carried to the wire in the ACS error shape.

Each error knows its HTTP status and the `{"error": {...}}` body that the real
service sends for the same situation (see the recordings in the reference set).
"""

from __future__ import annotations

from typing import Any


class AcsError(Exception):
    """A client-visible failure with an ACS error code."""

    status: int = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        target: str | None = None,
        inner: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.target = target
        self.inner = inner

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.inner is not None:
            error["innererror"] = {"code": self.inner[0], "message": self.inner[1]}
        return {"error": error}


def bad_request(message: str, target: str | None = None) -> AcsError:
    return AcsError("BadRequest", message, status=400, target=target)


def invalid_input(message: str, target: str | None = None) -> AcsError:
    return AcsError("InvalidInput", message, status=400, target=target)


def internal_bad_request(message: str) -> AcsError:
    """The service's way of rejecting some requests: InternalError wrapping BadRequest, status 400."""
    return AcsError(
        "InternalError",
        "The server encountered an internal error.",
        status=400,
        inner=("BadRequest", message),
    )


def not_found(message: str, target: str | None = None, code: str = "NotFound") -> AcsError:
    return AcsError(code, message, status=404, target=target)


def unknown_country(target: str = "countrycode") -> AcsError:
    return invalid_input("Unable to parse country code.", target=target)


def invalid_phone_number(raw: str) -> AcsError:
    return internal_bad_request(f"Invalid telephone number '{raw}'")


def not_owned() -> AcsError:
    return AcsError(
        "InsufficientPermissions",
        "Phone number not owned by this resource.",
        status=403,
        target="phonenumber",
    )


def number_not_found(e164: str) -> AcsError:
    return not_found(f"Input phoneNumber {e164} cannot be found.", target="phonenumber")


def no_matching_plan() -> AcsError:
    return internal_bad_request("We are unable to find phone plans to match your requested capabilities.")
