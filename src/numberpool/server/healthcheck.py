"""`numberpool healthcheck`: one GET of `/readyz`, exit 0 when it answers 200, else 1 (for container probes).

The standard library only (no curl in the image): HTTPS trusts the development CA of the data
directory by default, so `HEALTHCHECK CMD numberpool healthcheck` works with the default
certificate; `--cafile` names another CA, `--insecure` skips verification.
"""

from __future__ import annotations

import json
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path


def _tls_context(cafile: Path | None, data_dir: Path, insecure: bool) -> ssl.SSLContext:
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    development_ca = data_dir / "tls" / "ca.pem"
    if cafile is None and development_ca.is_file():
        cafile = development_ca
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)


def check(url: str, cafile: Path | None, data_dir: Path, insecure: bool, timeout: float) -> int:
    """Print one line saying what `url` answered; 0 when 200."""
    context = _tls_context(cafile, data_dir, insecure) if url.startswith("https:") else None
    request = urllib.request.Request(url, headers={"Accept": "application/health+json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310 (http/https only)
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"numberpool healthcheck: {url}: {reason}", file=sys.stderr)
        return 1
    try:
        verdict = json.loads(body).get("status", "?")
    except (ValueError, AttributeError):
        verdict = "?"
    failing = ""
    if status != 200:
        try:
            failing = " (" + ", ".join(json.loads(body).get("checks", {})) + " failing)"
        except (ValueError, AttributeError, TypeError):
            pass
    print(f"numberpool healthcheck: {url}: {status} {verdict}{failing}", file=sys.stderr if status != 200 else sys.stdout)
    return 0 if status == 200 else 1
