"""HTTPS in front (issue 15, item 1): Debian's Caddy with deploy/Caddyfile before the app.

Caddy runs on loopback with its own local CA (``local_certs``: what ``tls
internal`` does), no admin port, its data in the test's directory. The client
trusts only the root certificate Caddy wrote there, connects from 127.0.0.2
(Caddy itself reaches the app from 127.0.0.1), and:

* posts a signed LINE webhook through HTTPS: 200, and the fake LINE server gets the answer;
* fails a login on the console: the audit trail and the login rate limit hold
  127.0.0.2, the client's address, read from X-Forwarded-For by ProxyFix
  (``NINBAI_PROXY_FIX=1``) — and not an address the client claimed itself;
* cannot read /metrics from outside.
"""
from __future__ import annotations

import functools
import http.client
import http.cookiejar
import re
import shutil
import sqlite3
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import SECRET
from tests.support import webhooks
from tests.support.server import ROOT, ServerProcess, free_port
from tests.test_drills import server_env

CADDY = shutil.which("caddy") or "/usr/bin/caddy"
CLIENT = "127.0.0.2"


class _FromClientAddress(urllib.request.HTTPSHandler):
    """HTTPS from CLIENT (a loopback address other than Caddy's own)."""

    def https_open(self, req):
        conn = functools.partial(http.client.HTTPSConnection, source_address=(CLIENT, 0))
        return self.do_open(conn, req, context=self._context)


def start_caddy(tmp_path, port: int, upstream: str) -> tuple[subprocess.Popen, ssl.SSLContext]:
    data = tmp_path / "caddy"
    config = tmp_path / "Caddyfile"
    config.write_text(
        "{\n"
        "\tadmin off\n"
        "\tlocal_certs\n"  # every site from Caddy's local CA, as `tls internal`
        "\tskip_install_trust\n"
        "\tauto_https disable_redirects\n"
        f"\thttp_port {free_port()}\n"
        f"\thttps_port {port}\n"
        f"\tstorage file_system {data}\n"
        "}\n"
        f"import {ROOT / 'deploy' / 'Caddyfile'}\n"
    )
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(data), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "PATH": "/usr/bin:/bin", "NINBAI_DOMAIN": f"localhost:{port}", "NINBAI_UPSTREAM": upstream}
    # The access log goes to /var/log/caddy in production; here beside the test.
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "output file /var/log/caddy/ninbai-access.log" in text
    (tmp_path / "Caddyfile.site").write_text(
        text.replace("/var/log/caddy/ninbai-access.log", str(tmp_path / "access.log")))
    config.write_text(config.read_text().replace(str(ROOT / "deploy" / "Caddyfile"),
                                                 str(tmp_path / "Caddyfile.site")))
    log = open(tmp_path / "caddy.log", "wb")
    proc = subprocess.Popen([CADDY, "run", "--config", str(config), "--adapter", "caddyfile"],
                            env=env, stdout=log, stderr=log, start_new_session=True)
    log.close()
    root = data / "pki" / "authorities" / "local" / "root.crt"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((tmp_path / "caddy.log").read_text()[-3000:])
        if root.exists():
            context = ssl.create_default_context(cafile=str(root))
            try:
                with urllib.request.urlopen(f"https://localhost:{port}/healthz", context=context, timeout=5) as r:
                    if r.status == 200:
                        return proc, context
            except (OSError, ssl.SSLError):
                pass
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError((tmp_path / "caddy.log").read_text()[-3000:])


@pytest.mark.slow
def test_https_through_caddy_to_the_app(tmp_path, fake_line):
    app = ServerProcess(server_env(tmp_path, fake_line, NINBAI_PROXY_FIX="1"),
                        log_path=tmp_path / "server.log").start(timeout=60)
    port = free_port()
    caddy = None
    try:
        caddy, context = start_caddy(tmp_path, port, f"127.0.0.1:{app.port}")
        base = f"https://localhost:{port}"
        # The certificate is Caddy's local CA's, for localhost; nothing else is trusted.
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(base + "/healthz", context=ssl.create_default_context(), timeout=10)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(_FromClientAddress(context=context),
                                             urllib.request.HTTPCookieProcessor(jar))

        # 1. A signed webhook through HTTPS.
        user = webhooks.make_user_id()
        raw, headers = webhooks.request(
            [webhooks.text_event(user, "こんにちは", reply_token=fake_line.issue_reply_token(user))], SECRET)
        with opener.open(urllib.request.Request(base + "/callback", data=raw, headers=headers), timeout=30) as r:
            assert r.status == 200
        assert fake_line.wait_for(lambda: fake_line.texts_to(user), timeout=60)

        # 2. A failed login: the client's address reaches the audit trail and the rate limit.
        with opener.open(base + "/console/login", timeout=30) as r:
            token = re.search(r'name="csrf_token" value="([^"]+)"', r.read().decode()).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "login": "nobody", "password": "wrong"}).encode()
        request = urllib.request.Request(base + "/console/login", data=form, headers={
            "Referer": base + "/console/login",  # CSRF over HTTPS checks it (request.is_secure via ProxyFix)
            "X-Forwarded-For": "198.51.100.7",  # a claim of the client's: Caddy must not pass it on
        })
        with pytest.raises(urllib.error.HTTPError) as failed:
            opener.open(request, timeout=30)
        with failed.value:
            assert failed.value.code == 401, failed.value.read()[:500]

        # 3. /metrics is not served to the outside.
        with pytest.raises(urllib.error.HTTPError) as hidden:
            opener.open(base + "/metrics", timeout=30)
        with hidden.value:
            assert hidden.value.code == 404
    finally:
        if caddy is not None:
            caddy.terminate()
            caddy.wait(15)
        app.stop()
    db = sqlite3.connect(tmp_path / "ninbai.db")
    audit = db.execute("select action, ip from audit where action = 'login_failed'").fetchall()
    keys = {r[0] for r in db.execute("select key from rate_limits")}
    db.close()
    assert audit == [("login_failed", CLIENT)]
    assert f"login-ip:{CLIENT}" in keys and "login-ip:198.51.100.7" not in keys and "login-ip:127.0.0.1" not in keys
