"""The admin token check shared by the admin API and the testing controls."""

from __future__ import annotations

import pytest

from numberpool.api.admin_auth import check_admin
from numberpool.core.errors import AcsError

PATH = "/_numberpool/admin/api/v1/resources"


def test_without_a_configured_token_admin_paths_do_not_exist() -> None:
    with pytest.raises(AcsError) as raised:
        check_admin("Bearer anything", None, PATH)
    assert raised.value.status == 404 and raised.value.code == "NotFound"


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer  ", "Basic secret", "secret", "Bearer secret2",
                                           "Bearer secre"])
def test_a_missing_or_wrong_token_is_401(authorization: str | None) -> None:
    with pytest.raises(AcsError) as raised:
        check_admin(authorization, "secret", PATH)
    assert raised.value.status == 401 and raised.value.code == "Unauthorized"
    assert "secret" not in raised.value.message


def test_the_configured_token_opens_it() -> None:
    check_admin("Bearer secret", "secret", PATH)
    check_admin("bearer secret", "secret", PATH)
