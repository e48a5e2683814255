"""Stand-in for the SDK team's `sip_routing_helper`: trunk and route helpers of the SIP routing tests.

numberpool does not serve the SIP routing API (docs/fidelity.md); these helpers let the SIP
test modules be collected and run, so each of their tests is reported on its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence

from azure.communication.phonenumbers.siprouting import SipRoutingClient, SipTrunk, SipTrunkRoute


def get_unique_fqdn(trunk_id: str) -> str:
    return f"{trunk_id}-{uuid.uuid4().hex[:8]}.{os.environ.get('AZURE_TEST_DOMAIN', 'sip.numberpool.test')}"


def setup_configuration(connection_str: str, trunks: Sequence[SipTrunk] = (), routes: Sequence[SipTrunkRoute] = ()) -> None:
    client = SipRoutingClient.from_connection_string(connection_str)
    client.set_routes(list(routes))
    client.set_trunks(list(trunks))


def assert_trunks_are_equal(response_trunks: Sequence[SipTrunk], request_trunks: Sequence[SipTrunk]) -> None:
    assert len(response_trunks) == len(request_trunks), "Trunks have different length."
    for got, want in zip(response_trunks, request_trunks):
        assert got.fqdn == want.fqdn, "Trunk FQDNs don't match."
        assert got.sip_signaling_port == want.sip_signaling_port, "SIP signaling ports don't match."


def assert_routes_are_equal(response_routes: Sequence[SipTrunkRoute], request_routes: Sequence[SipTrunkRoute]) -> None:
    assert len(response_routes) == len(request_routes), "Routes have different length."
    for got, want in zip(response_routes, request_routes):
        assert (got.name, got.description, got.number_pattern) == (want.name, want.description, want.number_pattern)
        assert list(got.trunks or []) == list(want.trunks or []), "Trunk lists don't match."
