"""`numberpool.testing.server.TrustStack`: overlapping servers leave the trust variables as they found them."""

from __future__ import annotations

from numberpool.testing.server import TRUST_VARIABLES, TrustStack


def _values(bundle: str, ca: str) -> dict[str, str]:
    return {"REQUESTS_CA_BUNDLE": bundle, "SSL_CERT_FILE": bundle, "NODE_EXTRA_CA_CERTS": ca}


def test_overlapping_servers_stopping_first_in_first_out_restore_the_originals() -> None:
    environ = {"REQUESTS_CA_BUNDLE": "/etc/ssl/system.pem", "SSL_CERT_FILE": "/etc/ssl/system.pem"}
    stack = TrustStack(environ)
    module_server, test_server = object(), object()
    stack.push(module_server, _values("/tmp/a/bundle.pem", "/tmp/a/ca.pem"))
    stack.push(test_server, _values("/tmp/b/bundle.pem", "/tmp/b/ca.pem"))
    assert environ["REQUESTS_CA_BUNDLE"] == "/tmp/b/bundle.pem"
    assert stack.outside("SSL_CERT_FILE") == "/etc/ssl/system.pem"
    stack.pop(module_server)  # the older one stops first: the newer one's bundle stays
    assert environ == {**_values("/tmp/b/bundle.pem", "/tmp/b/ca.pem")}
    stack.pop(test_server)  # the last one: the originals, not a stopped server's bundle
    assert environ == {"REQUESTS_CA_BUNDLE": "/etc/ssl/system.pem", "SSL_CERT_FILE": "/etc/ssl/system.pem"}
    assert "NODE_EXTRA_CA_CERTS" not in environ  # it was not set before


def test_the_newest_running_server_is_trusted_whichever_stops() -> None:
    environ: dict[str, str] = {}
    stack = TrustStack(environ)
    a, b, c = object(), object(), object()
    for owner, name in ((a, "a"), (b, "b"), (c, "c")):
        stack.push(owner, _values(f"/{name}.pem", f"/{name}-ca.pem"))
    stack.pop(c)
    assert environ["SSL_CERT_FILE"] == "/b.pem"
    stack.pop(c)  # twice (stop() after a failed start, say): nothing changes
    assert environ["SSL_CERT_FILE"] == "/b.pem"
    stack.pop(a)
    assert environ["SSL_CERT_FILE"] == "/b.pem" and environ["NODE_EXTRA_CA_CERTS"] == "/b-ca.pem"
    stack.pop(b)
    assert environ == {}
    stack.push(a, _values("/a.pem", "/a-ca.pem"))  # a new round records the originals afresh
    stack.pop(a)
    assert not any(name in environ for name in TRUST_VARIABLES)


def test_a_value_set_by_someone_else_while_servers_run_is_left_to_them() -> None:
    environ = {"REQUESTS_CA_BUNDLE": "/etc/ssl/system.pem", "SSL_CERT_FILE": "/etc/ssl/system.pem"}
    stack = TrustStack(environ)
    a, b = object(), object()
    stack.push(a, _values("/a.pem", "/a-ca.pem"))
    stack.push(b, _values("/b.pem", "/b-ca.pem"))
    environ["REQUESTS_CA_BUNDLE"] = "/session-ca.pem"  # the test session trusts its own CA meanwhile
    assert stack.outside("REQUESTS_CA_BUNDLE") == "/session-ca.pem"
    stack.pop(b)
    assert environ["REQUESTS_CA_BUNDLE"] == "/session-ca.pem" and environ["SSL_CERT_FILE"] == "/a.pem"
    stack.pop(a)
    assert environ == {"REQUESTS_CA_BUNDLE": "/session-ca.pem", "SSL_CERT_FILE": "/etc/ssl/system.pem"}
