"""Promises about secrets: folders only their user can read, keys found in nothing Hearth writes,
personal details that never leave unredacted, and TLS that is always verified."""

from __future__ import annotations

import datetime
import ipaddress
import re
import ssl
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from app.cli.main import main
from app.core.config import keys
from app.core.config.schema import RemoteModel
from app.core.errors import ProviderUnreachable
from app.core.paths import user_paths
from app.core.providers.base import Message
from app.core.providers.openai_compat import OpenAICompatibleProvider
from app.core.session import open_session
from app.core.system import crash_reports
from tests.conftest import REPO, config_text, through_gate, write_user_config
from tests.fakes import MemoryKeychain
from tests.fault_server import fault_server, received

PLANTED_KEYCHAIN = "sk-PLANTED-keychain-9a8b7c6d5e4f"
PLANTED_ENV = "sk-PLANTED-environment-1f2e3d4c5b6a"
PERSONAL = "Write to bob.smith@example.org or call +1 415 555 0172 about card 4111 1111 1111 1111."


def test_the_data_and_config_folders_are_readable_by_their_user_only(hearth_home: Path):
    (hearth_home / "data").mkdir(parents=True, mode=0o755)  # as an older version might have left it
    (hearth_home / "data").chmod(0o755)
    session = open_session()
    session.close()
    paths = user_paths()
    for folder in (paths.data, paths.config, paths.models):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def every_file(root: Path) -> Iterator[Path]:
    yield from (path for path in root.rglob("*") if path.is_file())


def test_planted_keys_appear_in_nothing_hearth_writes_and_personal_details_never_leave(
    hearth_home: Path, model_file: Path, keychain: MemoryKeychain, monkeypatch, capsys, tmp_path: Path
):
    keys.store_key("home", PLANTED_KEYCHAIN)
    monkeypatch.setenv("HEARTH_KEY_OTHER", PLANTED_ENV)
    with fault_server() as server:
        text = config_text(model_file, privacy="local-and-self-hosted", threshold=1.0)
        text = text.replace(
            'base_url = "http://127.0.0.1:9/v1"', f'base_url = "{server}/openai-compatible/echo"\nkey = "home"'
        )
        write_user_config(hearth_home, text)
        assert main(["ask", PERSONAL]) == 0
        sent = received()
    # Everything that was written: database, backups, exports, the audit, a crash report.
    assert main(["backup"]) == 0
    assert main(["export", str(hearth_home / "data" / "export.json")]) == 0
    assert main(["export", "--format", "md", str(hearth_home / "data" / "export.md")]) == 0
    assert main(["audit", "--json"]) == 0
    paths = user_paths()
    crash = RuntimeError(f"failed with {PLANTED_KEYCHAIN} and {PLANTED_ENV} for bob.smith@example.org")
    crash_reports.write_report(paths.data, crash, keys.known_secrets(paths))
    printed = capsys.readouterr()

    assert sent and all("bob.smith@example.org" not in body and "4111 1111" not in body for body in sent)
    assert any("[EMAIL_1]" in body and "[CARD_1]" in body for body in sent)
    written = list(every_file(hearth_home))
    assert any(p.suffix == ".md" for p in written) and any("backups" in p.parts for p in written)
    for secret in (PLANTED_KEYCHAIN, PLANTED_ENV):
        assert secret not in printed.out + printed.err
        for path in written:
            assert secret.encode() not in path.read_bytes(), f"{secret} found in {path}"
    (report,) = crash_reports.pending(paths.data)
    assert "bob.smith@example.org" not in report.read_text()


def test_no_code_turns_tls_verification_off():
    insecure = re.compile(r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in (REPO / "app").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if insecure.search(line)
    ]
    assert offenders == []


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS service whose certificate no authority signed: what a man in the middle presents."""
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_a_service_with_an_untrusted_certificate_is_refused(self_signed_server: str):
    config = RemoteModel(provider="openai-compatible", location="cloud", base_url=self_signed_server, model="m")
    provider = OpenAICompatibleProvider("cloud", config, httpx.Client(), api_key=PLANTED_ENV)
    with pytest.raises(ProviderUnreachable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        list(through_gate(provider, [Message("user", "hi")], max_tokens=4))
