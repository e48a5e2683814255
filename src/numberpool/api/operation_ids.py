"""Each ACS route's official operationId (without `PhoneNumbers_`), as the OpenAPI files name it.

Fault rules match requests by these names. tests/test_faults.py checks the table against the
OpenAPI files of every api-version and against the routes the app serves.
"""

from __future__ import annotations

OPERATION_IDS: dict[tuple[str, str], str] = {
    ("GET", "/availablePhoneNumbers/countries"): "ListAvailableCountries",
    ("GET", "/availablePhoneNumbers/countries/{country}/areaCodes"): "ListAreaCodes",
    ("GET", "/availablePhoneNumbers/countries/{country}/localities"): "ListAvailableLocalities",
    ("GET", "/availablePhoneNumbers/countries/{country}/offerings"): "ListOfferings",
    ("POST", "/availablePhoneNumbers/countries/{country}/:browse"): "BrowseAvailableNumbers",
    ("POST", "/availablePhoneNumbers/countries/{country}/:search"): "SearchAvailablePhoneNumbers",
    ("GET", "/availablePhoneNumbers/searchResults/{search_id}"): "GetSearchResult",
    ("POST", "/availablePhoneNumbers/:purchase"): "PurchasePhoneNumbers",
    ("GET", "/availablePhoneNumbers/reservations"): "ListReservations",
    ("PATCH", "/availablePhoneNumbers/reservations/{reservation_id}"): "CreateOrUpdateReservation",
    ("GET", "/availablePhoneNumbers/reservations/{reservation_id}"): "GetReservation",
    ("DELETE", "/availablePhoneNumbers/reservations/{reservation_id}"): "DeleteReservation",
    ("POST", "/availablePhoneNumbers/reservations/{reservation_id}/:purchase"): "PurchaseReservation",
    ("GET", "/phoneNumbers/operations/{operation_id}"): "GetOperation",
    ("DELETE", "/phoneNumbers/operations/{operation_id}"): "CancelOperation",
    ("GET", "/phoneNumbers"): "ListPhoneNumbers",
    ("GET", "/phoneNumbers/{number}"): "GetByNumber",
    ("DELETE", "/phoneNumbers/{number}"): "ReleasePhoneNumber",
    ("PATCH", "/phoneNumbers/{number}/capabilities"): "UpdateCapabilities",
    ("POST", "/operatorInformation/:search"): "OperatorInformationSearch",
}
