"""The demo catalog: countries and the offerings (plans) sold in them, with monthly costs."""

from __future__ import annotations

from numberpool.core.model import AssignmentType, Capabilities, Cost, Country, Direction, NumberType, Offering

COUNTRIES = (
    Country("US", "United States"),
    Country("CA", "Canada"),
    Country("GB", "United Kingdom"),
    Country("FR", "France", do_not_resell=True),
    Country("IE", "Ireland"),
)

_GEO, _TF, _MOBILE = NumberType.GEOGRAPHIC, NumberType.TOLL_FREE, NumberType.MOBILE
_PERSON, _APP = AssignmentType.PERSON, AssignmentType.APPLICATION
_NONE, _IN, _OUT, _BOTH = Direction.NONE, Direction.INBOUND, Direction.OUTBOUND, Direction.BOTH


def _offer(
    country: str, kind: NumberType, who: AssignmentType, calling: Direction, sms: Direction, usd: float,
    aging_days: int = 0,
) -> Offering:
    """An offering; the demo's numbers do not age (`aging_days` 0): a released one is for sale again at once."""
    return Offering(country, kind, who, Capabilities(calling, sms), Cost(usd), aging_days)


OFFERINGS = (
    _offer("US", _GEO, _PERSON, _BOTH, _NONE, 1.0),
    _offer("US", _GEO, _APP, _BOTH, _NONE, 1.0),
    _offer("US", _TF, _APP, _BOTH, _BOTH, 2.0),
    _offer("CA", _GEO, _PERSON, _BOTH, _OUT, 1.0),
    _offer("CA", _GEO, _APP, _BOTH, _BOTH, 1.0),
    _offer("CA", _TF, _APP, _BOTH, _BOTH, 2.0),
    _offer("GB", _GEO, _PERSON, _BOTH, _NONE, 1.5),
    _offer("GB", _GEO, _APP, _BOTH, _NONE, 1.5),
    _offer("GB", _TF, _APP, _IN, _NONE, 18.0),
    _offer("GB", _MOBILE, _PERSON, _BOTH, _BOTH, 2.0),
    _offer("GB", _MOBILE, _APP, _BOTH, _BOTH, 2.0),
    _offer("FR", _TF, _APP, _BOTH, _NONE, 8.0),
    _offer("IE", _GEO, _PERSON, _BOTH, _NONE, 2.5),
    _offer("IE", _GEO, _APP, _BOTH, _NONE, 2.5),
    _offer("IE", _TF, _APP, _IN, _NONE, 16.0),
    _offer("IE", _MOBILE, _PERSON, _BOTH, _BOTH, 3.0),
    _offer("IE", _MOBILE, _APP, _BOTH, _BOTH, 3.0),
)
