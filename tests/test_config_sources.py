"""Every serve flag from the command line, `NUMBERPOOL_*` or the `--config` TOML: flag > environment > file > default."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import httpx
import pytest

from numberpool import cli
from numberpool.server.config_sources import describe
from tests.support.hmac_auth import HmacAuth
from tests.support.server import ServerProcess

from numberpool.core.resources import DEV_ACCESS_KEY

KEY_A = "a2V5LW9mLXRlbmFudC1hLWZvci10aGUtY29uZmlnLXRlc3Q="
KEY_B = "a2V5LW9mLXRlbmFudC1iLWZvci10aGUtY29uZmlnLXRlc3Q="
OPERATIONS_DOC = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("NUMBERPOOL_") and name != "NUMBERPOOL_TEST_POSTGRES":
            monkeypatch.delenv(name)


def config_of(*argv: str):
    parser = cli._parser()
    return cli._config(cli._apply_sources(parser, ["serve", *argv]))


def refused(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        config_of(*argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def test_flag_then_environment_then_file_then_default(tmp_path, monkeypatch):
    file = tmp_path / "numberpool.toml"
    file.write_text("port = 9001\nadmin-token = 'from-file'\nhold_minutes = 5\n")
    assert config_of().port == 8443
    assert config_of("--config", str(file)).port == 9001
    monkeypatch.setenv("NUMBERPOOL_PORT", "9002")
    assert config_of("--config", str(file)).port == 9002
    assert config_of("--config", str(file), "--port", "9003").port == 9003
    config = config_of("--config", str(file))
    assert config.admin_token == "from-file" and config.hold_minutes == 5  # dashes or underscores
    monkeypatch.setenv("NUMBERPOOL_ADMIN_TOKEN", "from-environment")
    assert config_of("--config", str(file)).admin_token == "from-environment"
    assert config_of("--config", str(file), "--admin-token", "from-flag").admin_token == "from-flag"


def test_the_config_file_itself_comes_from_the_flag_or_the_environment(tmp_path, monkeypatch):
    (tmp_path / "a.toml").write_text("port = 9101\n")
    (tmp_path / "b.toml").write_text("port = 9102\n")
    monkeypatch.setenv("NUMBERPOOL_CONFIG", str(tmp_path / "a.toml"))
    assert config_of().port == 9101
    assert config_of("--config", str(tmp_path / "b.toml")).port == 9102


def test_booleans_choices_and_repeatable_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBERPOOL_NO_TLS", "true")
    monkeypatch.setenv("NUMBERPOOL_LOG_FORMAT", "json")
    monkeypatch.setenv("NUMBERPOOL_RESOURCE", f"tenanta={KEY_A} tenantb={KEY_B}")
    config = config_of()
    assert config.tls is False and config.log_format == "json"
    assert {r.id for r in config.resources} >= {"tenanta", "tenantb"}
    monkeypatch.setenv("NUMBERPOOL_NO_TLS", "off")
    assert config_of().tls is True
    file = tmp_path / "numberpool.toml"
    file.write_text("skip-api-version-check = true\nresource = []\n[[resources]]\nid = 'tenantc'\nkeys = ['%s']\n" % KEY_A)
    monkeypatch.delenv("NUMBERPOOL_RESOURCE")
    config = config_of("--config", str(file))
    assert config.skip_api_version_check is True and "tenantc" in {r.id for r in config.resources}


@pytest.mark.parametrize("variable, value, message", [
    ("NUMBERPOOL_PORT", "x", "NUMBERPOOL_PORT: invalid int value 'x'"),
    ("NUMBERPOOL_HOLD_MINUTES", "soon", "NUMBERPOOL_HOLD_MINUTES: invalid float value 'soon'"),
    ("NUMBERPOOL_NO_TLS", "maybe", "NUMBERPOOL_NO_TLS: invalid boolean value 'maybe'"),
    ("NUMBERPOOL_LOG_FORMAT", "xml", "NUMBERPOOL_LOG_FORMAT: invalid choice 'xml'"),
])
def test_an_invalid_environment_value_names_its_variable(capsys, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    assert message in refused(capsys)


@pytest.mark.parametrize("text, message", [
    ("port = 'x'\n", "port: invalid int value 'x'"),
    ("prot = 1\n", "unknown setting 'prot'"),
    ("port = [1]\n", "port: expected a single int value"),
    ("port = \n", "numberpool.toml"),
])
def test_an_invalid_file_value_names_the_file_and_key(capsys, tmp_path, text, message):
    file = tmp_path / "numberpool.toml"
    file.write_text(text)
    error = refused(capsys, "--config", str(file))
    assert str(file) in error and message in error and "Traceback" not in error


def test_a_missing_config_file_is_one_line(capsys, tmp_path):
    error = refused(capsys, "--config", str(tmp_path / "missing.toml"))
    assert "missing.toml" in error and "Traceback" not in error


def test_the_documentation_lists_every_serve_flag():
    serve = cli._subparsers(cli._parser())["serve"]
    table = OPERATIONS_DOC.read_text()
    for flag, variable, key in describe(serve):
        assert f"`{flag}`" in table and f"`{variable}`" in table, flag
        assert key == "—" or f"`{key}`" in table, flag


def test_the_documented_config_file(tmp_path):
    import re

    example = re.search(r"```toml\n(.*?)```", OPERATIONS_DOC.read_text(), re.S).group(1)
    file = tmp_path / "numberpool.toml"
    file.write_text(example)
    config = config_of("--config", str(file))
    assert (config.port, config.host, config.workers, config.metrics_port) == (8443, "0.0.0.0", 4, 9464)
    assert config.database_url().startswith("postgresql://") and config.log_format == "json"
    assert "contoso" in {r.id for r in config.resources}


def test_a_server_configured_by_environment_and_file(tmp_path, development_ca):
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(development_ca, data_dir / "tls")
    config = tmp_path / "numberpool.toml"
    config.write_text("inventory-size = 0\nskip-api-version-check = true\nlog-format = 'json'\n")
    process = ServerProcess(data_dir, env={"NUMBERPOOL_CONFIG": str(config), "NUMBERPOOL_LOG_FORMAT": "text"}).start()
    try:
        with httpx.Client(base_url=process.endpoint, auth=HmacAuth(DEV_ACCESS_KEY),
                          verify=ssl.create_default_context(cafile=str(process.ca))) as client:
            # the file's skip-api-version-check: an unknown version is answered, not refused
            response = client.get("/availablePhoneNumbers/countries", params={"api-version": "2099-01-01"})
            assert response.status_code == 200, response.text
            metrics = client.get("/metrics").text
        assert "numberpool_phone_numbers{" not in metrics  # the file's inventory-size = 0
        deadline = time.monotonic() + 10
        while not any("numberpool.access" in line for line in process.output):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert not any(line.startswith("{") for line in process.output)  # the environment's text beats the file
    finally:
        process.stop()


CATALOG = Path(__file__).resolve().parents[1] / "src" / "numberpool" / "catalogs" / "demo.toml"


def test_the_flags_of_other_features_come_from_the_environment_and_the_file_too(tmp_path, monkeypatch):
    """testing, Entra ID, catalog, keys secret and shutdown flags: the generic sources reach them all."""
    import json

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    jwks = tmp_path / "jwks.json"  # read when the configuration is checked: a real key set
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwks.write_text(json.dumps({"keys": [{**jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True), "kid": "k"}]}))
    secret = tmp_path / "keys.secret"
    monkeypatch.setenv("NUMBERPOOL_TESTING", "true")
    monkeypatch.setenv("NUMBERPOOL_ENTRA", "yes")
    monkeypatch.setenv("NUMBERPOOL_SHUTDOWN_TIMEOUT", "7.5")
    monkeypatch.setenv("NUMBERPOOL_CATALOG", str(CATALOG))
    monkeypatch.setenv("NUMBERPOOL_KEYS_SECRET_FILE", str(secret))
    config = config_of()
    assert (config.testing, config.entra, config.shutdown_timeout) == (True, True, 7.5)
    assert (config.catalog, config.keys_secret_file) == (CATALOG, secret)
    for name in ("TESTING", "ENTRA", "SHUTDOWN_TIMEOUT", "CATALOG", "KEYS_SECRET_FILE"):
        monkeypatch.delenv(f"NUMBERPOOL_{name}")
    assert (config_of().testing, config_of().entra, config_of().catalog) == (False, False, None)

    file = tmp_path / "numberpool.toml"
    file.write_text(f"testing = true\nentra-jwks = '{jwks}'\nshutdown_timeout = 1.5\n"
                    f"catalog = '{CATALOG}'\nkeys-secret-file = '{secret}'\n")
    config = config_of("--config", str(file))
    assert (config.testing, config.entra, config.entra_jwks, config.shutdown_timeout) == (True, True, str(jwks), 1.5)
    assert (config.catalog, config.keys_secret_file) == (CATALOG, secret)
