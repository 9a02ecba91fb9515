"""A cookie-keeping HTTP client (stdlib only) for tests that talk to a real server process."""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request

HOST = "ecrf.example.org"
CLIENT_IP = "203.0.113.9"
DEMO_PASSWORD = "prod-smoke-test-pass-2026"


class _ProxyCookies(http.cookiejar.DefaultCookiePolicy):
    # TLS ends at the proxy: Secure cookies travel on the proxy's plain hop to gunicorn.
    def return_ok_secure(self, cookie, request):
        return True


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """Reaches the server as the README's proxy would (proxy=True) or directly (False)."""

    def __init__(
        self, base: str, *, host: str = HOST, proxy: bool = True, password: str = DEMO_PASSWORD
    ):
        self.base, self.host, self.proxy, self.password = base, host, proxy, password
        self.jar = http.cookiejar.CookieJar(policy=_ProxyCookies())
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        body = None if data is None else urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(self.base + path, data=body)  # noqa: S310 (http only)
        scheme = "https" if self.proxy else "http"
        origin = f"{scheme}://{self.host}"
        proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT_IP} if self.proxy else {}
        for name, value in {
            "Host": self.host,
            **proxy,
            **({"Origin": origin, "Referer": origin + path} if body else {}),
            **(headers or {}),
        }.items():
            request.add_header(name, value)
        try:
            response = self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx/5xx
            response = error
        with response:
            return response.status, dict(response.headers), response.read()

    def get(self, path: str, **kwargs):
        return self.request(path, **kwargs)

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def login(self, username: str) -> None:
        status, _, _ = self.get("/accounts/login/")
        assert status == 200
        status, headers, body = self.request(
            "/accounts/login/",
            {"username": username, "password": self.password, "csrfmiddlewaretoken": self.csrf()},
        )
        assert status == 302, body.decode()[:2000]
