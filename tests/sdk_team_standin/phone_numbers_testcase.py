"""Stand-in for the SDK team's `phone_numbers_testcase`: the connection string from the environment."""

from __future__ import annotations

import os

from devtools_testutils import PLAYBACK_REFUSED, AzureRecordedTestCase


class PhoneNumbersTestCase(AzureRecordedTestCase):
    def setUp(self, use_dynamic_resource: bool = False) -> None:
        """The SDK team's live tests read the resource's connection string from the environment.

        `use_dynamic_resource` picks the resource their pipeline creates per run (SIP routing
        tests); it falls back to the static one, as numberpool serves one resource for both.
        """
        if self.is_playback():
            raise RuntimeError(PLAYBACK_REFUSED)
        static = os.environ["COMMUNICATION_LIVETEST_STATIC_CONNECTION_STRING"]
        if use_dynamic_resource:
            self.connection_str = os.environ.get("COMMUNICATION_LIVETEST_DYNAMIC_CONNECTION_STRING", static)
        else:
            self.connection_str = static
