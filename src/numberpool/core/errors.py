"""The error catalogue: every error a client can cause, in the ACS error shape.

This module is the one place that says which status, code, target and message the
service answers with. Where the real service was recorded (the SDK teams' session
recordings, mined into `tests/data/fidelity.toml`), the entry gives the recorded
answer, with the request's values where the service puts them; targets are lower-case
as the service writes them. Entries without a recording keep numberpool's own wording
and say "Not recorded". Where the answer differs between api-versions,
the versions feature table (`api/versions.py`) picks the form and passes it here.
"""

from __future__ import annotations

from typing import Any, Literal

INTERNAL_ERROR_MESSAGE = "The server encountered an internal error."


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
        null_inner_error: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.target = target
        self.inner = inner
        self.null_inner_error = null_inner_error
        """ASP.NET's API-versioning errors carry `"innerError": null` (that spelling)."""

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.inner is not None:
            error["innererror"] = {"code": self.inner[0], "message": self.inner[1]}
        elif self.null_inner_error:
            error["innerError"] = None
        return {"error": error}


# --- generic shapes -------------------------------------------------------------------


def bad_request(message: str, target: str | None = None) -> AcsError:
    return AcsError("BadRequest", message, status=400, target=target)


def invalid_input(message: str, target: str | None = None) -> AcsError:
    return AcsError("InvalidInput", message, status=400, target=target)


def internal_bad_request(message: str) -> AcsError:
    """The service's way of rejecting some requests: InternalError wrapping BadRequest, status 400."""
    return AcsError("InternalError", INTERNAL_ERROR_MESSAGE, status=400, inner=("BadRequest", message))


def not_found(message: str, target: str | None = None, code: str = "NotFound") -> AcsError:
    return AcsError(code, message, status=404, target=target)


# --- api-version ----------------------------------------------------------------------


def invalid_api_version(request_uri: str, version: str) -> AcsError:
    """The service's form (ASP.NET API versioning, recorded 2024-01-16): no target, `innerError: null`.

    `request_uri` is the URI without its query string, as the service names it.
    """
    return AcsError(
        "InvalidApiVersion",
        f"The HTTP resource that matches the request URI '{request_uri}' does not support the API version '{version}'.",
        status=400,
        null_inner_error=True,
    )


def missing_api_version() -> AcsError:
    """Not recorded: numberpool's wording."""
    return AcsError(
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
        status=400,
        target="api-version",
    )


# --- catalog --------------------------------------------------------------------------


def unknown_country() -> AcsError:
    return invalid_input("Unable to parse country code.", target="countrycode")


def no_area_codes() -> AcsError:
    """Area codes asked for a locality or division that matches nothing (recorded 2025-06-18)."""
    return not_found("No area codes were found for the given parameters")


# --- search and purchase --------------------------------------------------------------


def no_matching_plan() -> AcsError:
    return internal_bad_request("We are unable to find phone plans to match your requested capabilities.")


def search_not_found(search_id: str) -> AcsError:
    """An unknown search id, for GET searchResults and for purchase alike."""
    return not_found(f"Input searchId {search_id} cannot be found.", target="searchid")


ResellRefusal = Literal["consent", "agreement"]


def do_not_resell_refused(form: ResellRefusal) -> AcsError:
    """A purchase in a do-not-resell country without the agreement; the wording changed with the field's name."""
    if form == "consent":  # consentToNotResellNumbers (2023-10-01-preview .. 2024-05-01-preview)
        return bad_request("Consent not provided to not resell the phone numbers", target="isconsentprovided")
    return bad_request("Do not resell agreement was not provided and it is required for this purchase.")


# --- purchased numbers ----------------------------------------------------------------


def invalid_phone_number(raw: str) -> AcsError:
    return internal_bad_request(f"Invalid telephone number '{raw}'")


def number_not_found(e164: str) -> AcsError:
    return not_found(f"Input phoneNumber {e164} cannot be found.", target="phonenumber")


def not_owned() -> AcsError:
    return AcsError(
        "InsufficientPermissions",
        "Phone number not owned by this resource.",
        status=403,
        target="phonenumber",
    )


def release_not_owned(e164: str, tenant: str) -> tuple[str, str]:
    """Releasing a number the resource does not own: accepted (202) since 2025, the release then fails.

    The code and message of the failed release operation. Not recorded: the poll of such a release
    is in no recording, so this is the wording of the service's earlier refusal (400 InternalError
    with this innererror, recorded 2022-12 at 2022-12-01 and 2023-05 at 2023-05-01-preview).
    """
    return "BadRequest", f"Numbers: [{e164}] do not belong to the Tenant:{tenant}."


def capabilities_missing() -> AcsError:
    """A capabilities update naming neither calling nor sms; checked before the number (recorded 2023-05-25)."""
    return AcsError(
        "MissingInput",
        "At least one of Sms or Calling must exist.",
        status=400,
        target="phonenumbercapabilitiesrequest",
    )


# --- operator information -------------------------------------------------------------

TOO_MANY_OPERATOR_NUMBERS_MESSAGE = "Can only accept one phoneNumber"


def too_many_operator_numbers() -> AcsError:
    return AcsError("BadRequest", TOO_MANY_OPERATOR_NUMBERS_MESSAGE, status=400)


# --- reservations ---------------------------------------------------------------------

RESERVATION_NOT_FOUND_MESSAGE = "The reservation was not found and the operation could not be completed."

# A number a reservation could not take: the error on that number in the 207 answer (recorded 2025-04-25).
NUMBER_NOT_AVAILABLE = "NumberNotAvailable"
NUMBER_NOT_AVAILABLE_MESSAGE = "The number selected is not available. Please select a different number."


def reservation_not_found() -> AcsError:
    return not_found(RESERVATION_NOT_FOUND_MESSAGE, code="ReservationNotFound")


def reservation_is_empty() -> AcsError:
    """Purchasing a reservation that holds no number; checked before the do-not-resell agreement (recorded 2025-04-25)."""
    return AcsError(
        "ReservationIsEmpty",
        "The reservation does not contain any phone numbers and a purchase could not be started.",
        status=400,
    )


# --- operations -----------------------------------------------------------------------


def operation_not_found(operation_id: str) -> AcsError:
    """Not recorded: numberpool's wording."""
    return not_found(f"Operation {operation_id} cannot be found.", target="operationId")
