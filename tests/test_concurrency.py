"""No number is ever handed to two searches, however many race for it."""

from __future__ import annotations

import asyncio
from collections import Counter

from azure.core.exceptions import HttpResponseError
from azure.communication.phonenumbers import (
    PhoneNumberAssignmentType,
    PhoneNumberCapabilities,
    PhoneNumberCapabilityType,
    PhoneNumberType,
)
from azure.communication.phonenumbers.aio import PhoneNumbersClient

POOL = 100
SEARCHES = 50
PER_SEARCH = 3  # 150 numbers asked of a pool of 100


async def test_fifty_concurrent_searches_share_a_pool_of_one_hundred(make_server):
    pool = make_server("--inventory-size", str(POOL))
    caps = PhoneNumberCapabilities(calling=PhoneNumberCapabilityType.INBOUND_OUTBOUND, sms=PhoneNumberCapabilityType.NONE)

    async def one_search(client: PhoneNumbersClient) -> list[str]:
        poller = await client.begin_search_available_phone_numbers(
            "US", PhoneNumberType.GEOGRAPHIC, PhoneNumberAssignmentType.APPLICATION, caps,
            area_code="425", quantity=PER_SEARCH, polling_interval=0,
        )
        try:
            return list((await poller.result()).phone_numbers)
        except HttpResponseError as error:
            assert "OutOfStock" in str(error) or (error.error and error.error.code == "OutOfStock"), error
            return []

    clients = [PhoneNumbersClient.from_connection_string(pool.connection_string) for _ in range(SEARCHES)]
    try:
        results = await asyncio.gather(*(one_search(c) for c in clients))
    finally:
        await asyncio.gather(*(c.close() for c in clients))

    handed_out = Counter(number for result in results for number in result)
    assert [n for n, times in handed_out.items() if times > 1] == []
    assert len(handed_out) == POOL  # every number held once, none invented
    assert all(n.startswith("+1425") for n in handed_out)
    assert sum(1 for r in results if r) >= POOL // PER_SEARCH
