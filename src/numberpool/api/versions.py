"""api-version negotiation: which versions are served and what each one knows.

`FEATURES` is the one table of what differs between the published api-versions of ACS
Phone Numbers (read from each version's official OpenAPI file). Routes and wire shapes
consult `ApiVersion.features`; nothing else in the code compares version strings.

Decisions where the specs are silent:

* An operation that exists in no form at the requested api-version (the catalog at
  2021-03-07, operator information before 2023-05-01-preview, browse and reservations
  before 2024-04-30-preview) answers like an unknown route: 404 `NotFound`, naming the
  api-versions that have it. The request was well-formed; the resource is not there.
* 2023-10-01-preview and 2024-01-31-preview describe earlier, since-replaced drafts of
  browse and reservations (different bodies and statuses across their revisions); those
  operations are not served at these two versions. Everything else of theirs is.
* The do-not-resell agreement travels in the purchase body under the version's own field
  name (`consentToNotResellNumbers` in the 2023-10 to 2024-04 previews, `agreeToNotResell`
  from 2025-02-11). At versions that define neither, the SDKs still send
  `agreeToNotResell`, so both names are read there.
* Purchased numbers at the Operator Connect previews carry `operatorId` and `operatorName`
  "numberpool" and `phoneNumberSource` "cloud": every number sold here is the service's own.
* A mobile number or search, read at a version whose enum has no `mobile`, is not found
  there (404), and lists at such versions leave mobile numbers out.
* Not served: 2021-10-25-preview1, 2022-03-31, 2022-07-31-preview3, 2022-11-30 and
  2022-12-02-preview2, whose spec folders also exist; no release of the Python SDK
  (1.4.0 lists seven versions, all served) targets them.
* Versions the service accepts but no OpenAPI file describes (`ALIASES`: seen in the
  service's `api-supported-versions` headers and sent by SDK builds, e.g. JS 1.3.0-beta.3
  sends `2024-05-01-preview`) are served with the shapes of the nearest published version.
* An unknown api-version is the service's recorded 400 `InvalidApiVersion` (the error
  catalogue's `invalid_api_version`); with `--skip-api-version-check` it is served with the
  newest shapes.
* The do-not-resell refusal follows the version's field: "consent" wording (target
  `isconsentprovided`) where the field is `consentToNotResellNumbers`, else the
  agreement wording (recordings of 2024-01 at 2023-10-01-preview and 2025-06 at 2025-06-01).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from numberpool.core.errors import ResellRefusal, invalid_api_version, missing_api_version, not_found
from numberpool.core.model import NumberType

AGREE = "agreeToNotResell"
CONSENT = "consentToNotResellNumbers"


@dataclass(frozen=True)
class Features:
    """What one api-version has. Defaults are those of 2022-12-01."""

    catalog: bool = True
    """GET countries, localities, area codes and offerings."""
    mobile: bool = False
    """`mobile` in the phoneNumberType enum (inputs and outputs)."""
    search_errors: bool = True
    """`errorCode` and `error` on search results."""
    agreement_flag: bool = False
    """`isAgreementToNotResellRequired` on search results and available numbers."""
    consent_field: str | None = None
    """The purchase body's do-not-resell field (None: the version defines none)."""
    operator_fields: bool = False
    """`operatorId`, `operatorName`, `phoneNumberSource` on purchased numbers (Operator Connect previews)."""
    operator_information: str | None = None
    """POST /operatorInformation/:search: None, "basic" (type, country, operator always) or
    "formats" (national/international formats; type, country and operator on request)."""
    reservations: bool = False
    """Browse and reservations (and the reservationPurchase operation type)."""

    @property
    def resell_refusal(self) -> ResellRefusal:
        """Which wording refuses a purchase that lacks the do-not-resell agreement."""
        return "consent" if self.consent_field == CONSENT else "agreement"


_FIRST = Features(catalog=False, search_errors=False)
_CATALOG = Features()
_OPERATOR = Features(operator_information="formats")
_AGREEMENT = replace(_OPERATOR, agreement_flag=True, consent_field=AGREE)

# Every published api-version of ACS Phone Numbers that the served operations exist in.
FEATURES: dict[str, Features] = {
    "2021-03-07": _FIRST,
    "2022-01-11-preview2": _FIRST,
    "2022-06-01-preview": replace(_FIRST, operator_fields=True),
    "2022-12-01": _CATALOG,
    "2023-05-01-preview": replace(_CATALOG, operator_information="basic"),
    "2023-10-01-preview": replace(_CATALOG, operator_information="basic", operator_fields=True, consent_field=CONSENT),
    "2024-01-31-preview": replace(_OPERATOR, operator_fields=True, consent_field=CONSENT),
    "2024-03-01-preview": _OPERATOR,
    "2024-03-01": _OPERATOR,
    "2024-04-30-preview": replace(_OPERATOR, operator_fields=True, consent_field=CONSENT, reservations=True),
    "2025-02-11": _AGREEMENT,
    "2025-04-01": replace(_AGREEMENT, reservations=True),
    "2025-06-01": replace(_AGREEMENT, reservations=True, mobile=True),
}
SUPPORTED = tuple(FEATURES)
NEWEST = SUPPORTED[-1]

# Versions the service accepts that no published OpenAPI file describes -> the published
# version whose shapes they are served with.
ALIASES: dict[str, str] = {
    "2023-10-01-preview2": "2023-10-01-preview",
    "2024-05-01-preview": "2024-04-30-preview",
    "2024-08-31-preview": "2024-04-30-preview",
    "2025-04-01-preview": "2025-04-01",
    "2025-04-15-preview": "2025-04-01",
}
ACCEPTED = tuple(sorted((*SUPPORTED, *ALIASES)))


@dataclass(frozen=True)
class ApiVersion:
    value: str
    """The version as the client asked for it (echoed in locations)."""

    @property
    def shape(self) -> str:
        """The published version whose shapes this one is served with."""
        return ALIASES.get(self.value, self.value)

    @property
    def features(self) -> Features:
        return FEATURES[self.shape]

    @property
    def number_types(self) -> tuple[NumberType, ...]:
        """The phoneNumberType enum of this version."""
        return tuple(NumberType) if self.features.mobile else (NumberType.GEOGRAPHIC, NumberType.TOLL_FREE)

    def require(self, feature: str, path: str) -> None:
        """404, as for an unknown route, when this version has no such operation."""
        if getattr(self.features, feature):
            return
        having = [v for v, f in FEATURES.items() if getattr(f, feature)]
        raise not_found(
            f"No resource exists at {path} in api-version {self.value}; "
            f"it is available in api-versions {', '.join(having)}."
        )


def negotiate(raw: str | None, *, skip_check: bool = False, request_uri: Callable[[], str] = str) -> ApiVersion:
    """The version `raw` names; `request_uri()` (for the error message) is built only when it names none."""
    if not raw:
        raise missing_api_version()
    if raw in FEATURES or raw in ALIASES:
        return ApiVersion(raw)
    if skip_check:
        return ApiVersion(NEWEST)
    raise invalid_api_version(request_uri(), raw)
