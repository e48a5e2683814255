"""api-version negotiation: which versions are served and what each one knows."""

from __future__ import annotations

from dataclasses import dataclass

from numberpool.core.errors import AcsError

# Every published api-version of ACS Phone Numbers that the served operations exist in.
SUPPORTED = (
    "2021-03-07",
    "2022-01-11-preview2",
    "2022-06-01-preview",
    "2022-12-01",
    "2023-05-01-preview",
    "2023-10-01-preview",
    "2024-01-31-preview",
    "2024-03-01-preview",
    "2024-03-01",
    "2024-04-30-preview",
    "2025-02-11",
    "2025-04-01",
    "2025-06-01",
)
NEWEST = SUPPORTED[-1]


@dataclass(frozen=True)
class ApiVersion:
    value: str

    @property
    def _date(self) -> str:
        return self.value[:10]

    @property
    def has_agreement_flag(self) -> bool:
        """isAgreementToNotResellRequired on search results (2025-02-11 and later)."""
        return self._date >= "2025-02-11"

    @property
    def has_mobile(self) -> bool:
        return self._date >= "2025-06-01"


def negotiate(raw: str | None, *, skip_check: bool = False) -> ApiVersion:
    if not raw:
        raise AcsError(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
            status=400,
            target="api-version",
        )
    if raw in SUPPORTED:
        return ApiVersion(raw)
    if skip_check:
        return ApiVersion(NEWEST)
    raise AcsError(
        "UnsupportedApiVersion",
        f"The api-version '{raw}' is not supported. Supported versions: {', '.join(SUPPORTED)}.",
        status=400,
        target="api-version",
    )
