"""pytest fixtures that start real identity providers, and drivers that sign a user in at them.

Registered as a plugin in tests/conftest.py. No browser and no protocol mocks: the drivers do what a browser
does (follow redirects, submit the provider's own HTML forms, keep its cookies in a ``requests.Session``) and
stop at the redirect back to the relying party, returning that URL unrequested so the test decides what to do
with ``code``/``state`` or ``ticket``.

OIDC (``oidc_idp``, session-scoped): ``tests/idp/oidc/server.mjs`` (oidc-provider). Clients come from the
``oidc_idp_clients`` fixture (override it) and/or ``oidc_idp.add_client(...)`` at run time; accounts from
``oidc_idp_accounts`` and/or ``oidc_idp.set_account(...)``.

CAS (``cas_idp``, session-scoped): ``tests/idp/cas/`` (django-cas-server). The platform's service pattern
comes from the ``cas_idp_service_pattern`` fixture; users from ``cas_idp_users`` and/or ``cas_idp.set_user``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests

IDP_DIR = Path(__file__).resolve().parent
OIDC_DIR = IDP_DIR / "oidc"
CAS_DIR = IDP_DIR / "cas"
START_TIMEOUT = 60.0
HTTP_TIMEOUT = 10.0
MAX_STEPS = 20


class IdpError(AssertionError):
    """The provider did not behave as the driver expected (an error page, a loop, an unknown form)."""


# --------------------------------------------------------------------------------------------------------------
# Small helpers shared by both drivers


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``(code_verifier, code_challenge)`` pair for the S256 method."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_params(url: str) -> dict[str, str]:
    """The query parameters of ``url`` (last value wins)."""
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


@dataclass
class _Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """The forms (action, method, inputs), the links and any buttons bound to a form by ``form=`` on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.links: list[str] = []
        self.by_id: dict[str, _Form] = {}
        self._current: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            form = _Form(action=a.get("action", ""), method=a.get("method", "get").lower(), attrs=a)
            self.forms.append(form)
            if a.get("id"):
                self.by_id[a["id"]] = form
            self._current = form
        elif tag in ("input", "select", "textarea", "button") and a.get("name"):
            target = self.by_id.get(a["form"]) if a.get("form") else self._current
            if target is None:
                return
            kind = a.get("type", "text").lower()
            if tag == "button" or kind in ("submit", "image", "reset", "button"):
                return  # submit buttons only count when pressed
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            target.fields.setdefault(a["name"], a.get("value", ""))
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _parse(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


def _page_text(response: requests.Response, limit: int = 600) -> str:
    return f"HTTP {response.status_code} {response.url}: {response.text[:limit]!r}"


# --------------------------------------------------------------------------------------------------------------
# Processes


class _Process:
    """A provider process: its log file, its stop; output goes to files, never to an undrained pipe."""

    def __init__(self, name: str, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.stdout_path = workdir / f"{name}.out"
        self.log_path = workdir / f"{name}.log"
        with self.stdout_path.open("wb") as out, self.log_path.open("wb") as err:
            self.popen = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def log_tail(self, limit: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-limit:]
        return ""

    def fail(self, message: str) -> IdpError:
        return IdpError(f"{self.name}: {message}\n--- log ---\n{self.log_tail()}")

    def wait_for_line(self, predicate: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        """The first JSON line on stdout that ``predicate`` accepts (polled with a deadline)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise self.fail(f"exited with {self.popen.returncode} while starting")
            with contextlib.suppress(OSError):
                for line in self.stdout_path.read_text(errors="replace").splitlines():
                    with contextlib.suppress(ValueError):
                        data = json.loads(line)
                        if isinstance(data, dict) and predicate(data):
                            return data
            time.sleep(0.05)
        raise self.fail(f"did not start within {timeout:.0f} s")

    def wait_http(self, url: str, timeout: float, ok: Callable[[requests.Response], bool]) -> requests.Response:
        deadline = time.monotonic() + timeout
        last: Exception | str = "no answer"
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise self.fail(f"exited with {self.popen.returncode} while starting")
            try:
                response = requests.get(url, timeout=2)
                if ok(response):
                    return response
                last = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.1)
        raise self.fail(f"{url} did not answer within {timeout:.0f} s ({last})")

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


# --------------------------------------------------------------------------------------------------------------
# OIDC


DEFAULT_OIDC_ACCOUNTS: dict[str, dict[str, Any]] = {
    # A teacher who is the principal of a school (org_type 2) under the city bureau (org_type 1).
    "t-1001": {
        "name": "张明",
        "preferred_username": "zhangming",
        "email": "zhangming@school1.wuhai.example",
        "email_verified": True,
        "phone_number": "13800001001",
        "phone_number_verified": True,
        "org_code": "150302001",
        "org_name": "乌海市第一中学",
        "identity_type": "teacher",
        "is_principal": True,
        "user_org": [
            {
                "org_code": "150302001",
                "org_name": "乌海市第一中学",
                "org_type": 2,
                "parent_code": "150300",
                "is_principal": True,
            }
        ],
        "account_status": "active",
    },
    # A member of the bureau's staff.
    "b-2001": {
        "name": "李华",
        "preferred_username": "lihua",
        "email": "lihua@edu.wuhai.example",
        "email_verified": True,
        "phone_number": "13800002001",
        "org_code": "150300",
        "org_name": "乌海市教育局",
        "identity_type": "staff",
        "is_principal": False,
        "user_org": [
            {
                "org_code": "150300",
                "org_name": "乌海市教育局",
                "org_type": 1,
                "parent_code": None,
                "is_principal": False,
            }
        ],
        "account_status": "active",
    },
}


class OidcIdp:
    """A running ``tests/idp/oidc/server.mjs`` and a driver that signs a user in at it."""

    def __init__(self, process: _Process, issuer: str, clients: Sequence[Mapping[str, Any]]) -> None:
        self._process = process
        self.issuer = issuer.rstrip("/")
        self.base_url = self.issuer
        self.port = urllib.parse.urlsplit(self.issuer).port
        self.log_path = process.log_path
        self.clients: dict[str, dict[str, Any]] = {c["client_id"]: dict(c) for c in clients}
        self.last_session: requests.Session | None = None
        self._discovery: dict[str, Any] | None = None

    # -- configuration at run time ------------------------------------------------------------------------------

    @property
    def discovery(self) -> dict[str, Any]:
        """``/.well-known/openid-configuration`` (fetched once)."""
        if self._discovery is None:
            response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            self._discovery = response.json()
        return self._discovery

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def add_client(
        self,
        client_id: str,
        client_secret: str | None = None,
        redirect_uris: Sequence[str] = (),
        *,
        post_logout_redirect_uris: Sequence[str] = (),
        backchannel_logout_uri: str | None = None,
        token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107 - a method name
        require_pkce: bool = True,
        **metadata: Any,
    ) -> dict[str, Any]:
        """Register or replace a client (``PUT /__test/clients/<id>``); returns the metadata the provider kept.

        ``backchannel_logout_session_required`` is true whenever a ``backchannel_logout_uri`` is given.
        ``require_pkce=False`` lets the client do a code flow without PKCE (like the education-cloud platforms).
        Any other oidc-provider client metadata (``scope``, ``grant_types``, ...) may be passed as keywords.
        """
        body: dict[str, Any] = {
            "client_secret": client_secret or secrets.token_urlsafe(24),
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
            "token_endpoint_auth_method": token_endpoint_auth_method,
            "require_pkce": require_pkce,
            **metadata,
        }
        if backchannel_logout_uri:
            body["backchannel_logout_uri"] = backchannel_logout_uri
            body.setdefault("backchannel_logout_session_required", True)
        response = requests.put(
            f"{self.issuer}/__test/clients/{urllib.parse.quote(client_id, safe='')}", json=body, timeout=HTTP_TIMEOUT
        )
        if response.status_code != 200:
            raise IdpError(f"client {client_id} refused: {response.text}")
        kept: dict[str, Any] = response.json()
        self.clients[client_id] = kept
        return kept

    def set_account(self, sub: str, claims: Mapping[str, Any]) -> None:
        """Set or replace the claims of account ``sub``; the next token or user-info call sees them."""
        response = requests.put(
            f"{self.issuer}/__test/accounts/{urllib.parse.quote(sub, safe='')}", json=dict(claims), timeout=HTTP_TIMEOUT
        )
        response.raise_for_status()

    def rotate_keys(self, *, retire_old: bool = False) -> str:
        """Add a new RSA signing key and sign with it from now on; returns its ``kid``.

        The old keys stay in the JWKS unless ``retire_old``. Either way a relying party that cached the JWKS
        meets an unknown ``kid`` and must fetch it again.
        """
        response = requests.post(f"{self.issuer}/__test/rotate-keys", json={"retire_old": retire_old}, timeout=30)
        response.raise_for_status()
        kid: str = response.json()["active_kid"]
        return kid

    # -- the browser's part --------------------------------------------------------------------------------------

    def _is_provider(self, url: str) -> bool:
        return _origin(url) == _origin(self.issuer)

    def _walk(self, url: str, session: requests.Session, *, login: str | None, password: str, consent: bool) -> str:
        """Follow the provider's pages from ``url`` until it redirects away; return that Location."""
        method, data = "GET", None
        seen_login = 0
        for _ in range(MAX_STEPS):
            if method == "GET":
                response = session.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
            else:
                response = session.post(url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)
            if response.is_redirect:
                location = urllib.parse.urljoin(response.url, response.headers["Location"])
                if not self._is_provider(location) or self.end_session_success(location):
                    return location
                method, data, url = "GET", None, location
                continue
            if response.status_code != 200:
                raise IdpError(f"provider error page: {_page_text(response)}")
            page = _parse(response.text)
            form = next((f for f in page.forms if f.fields.get("prompt") in ("login", "consent")), None)
            if form is not None and form.fields["prompt"] == "login":
                if login is None:
                    return self._abort(page, response, session)
                seen_login += 1
                if seen_login > 1:
                    raise IdpError(f"the provider asked to sign in again: is {login!r} a known account?")
                data = {**form.fields, "prompt": "login", "login": login, "password": password}
            elif form is not None:
                if not consent:
                    return self._abort(page, response, session)
                data = {**form.fields, "prompt": "consent"}
            elif page.forms and page.forms[0].fields.get("xsrf") is not None:
                # The end-session confirmation page (or its auto-submitted form when no one is signed in).
                form = page.forms[0]
                data = {**form.fields, "logout": "yes"}
            elif page.forms and not self._is_provider(urllib.parse.urljoin(response.url, page.forms[0].action)):
                raise IdpError(
                    "the provider answered with an auto-submitted form to the relying party (response_mode=form_post);"
                    f" the driver returns redirects only: {page.forms[0].action} {page.forms[0].fields}"
                )
            else:
                raise IdpError(f"unexpected provider page: {_page_text(response)}")
            url, method = urllib.parse.urljoin(response.url, form.action), form.method.upper()
        raise IdpError(f"no redirect to the relying party after {MAX_STEPS} steps (last: {url})")

    def _abort(self, page: _FormParser, response: requests.Response, session: requests.Session) -> str:
        abort = next((link for link in page.links if link.rstrip("/").endswith("/abort")), None)
        if abort is None:
            raise IdpError(f"no abort link on the interaction page: {_page_text(response)}")
        return self._walk(urllib.parse.urljoin(response.url, abort), session, login=None, password="", consent=False)

    def sign_in(
        self,
        authorize_url: str,
        login: str,
        *,
        session: requests.Session | None = None,
        consent: bool = True,
        password: str = "password",  # noqa: S107 - the dev interactions take any password
    ) -> str:
        """Sign ``login`` (an account's ``sub``) in, starting at the RP's authorization URL.

        Follows the redirects through the dev-interaction login and consent forms and returns the final redirect
        Location to the RP (``...?code=...&state=...&iss=...``) without requesting it. If the session already
        has a signed-in user, no login form appears and that user is the one signed in (pass a fresh session,
        or ``prompt=login`` in the URL, for another). ``consent=False`` aborts at the consent page, so the RP
        gets ``error=access_denied``. The dev interactions take any password; a login that is no account's
        ``sub`` makes oidc-provider answer 500 ("oops! something went wrong"), raised here as ``IdpError``.
        ``authorize_url`` may also be the RP's own login URL, as long as it redirects to the provider: that first
        request is made (its cookies land in ``session``), the last redirect, back to the RP, is not. The session
        used is kept as ``self.last_session`` (for ``logout``).
        """
        session = session if session is not None else requests.Session()
        self.last_session = session
        return self._walk(authorize_url, session, login=login, password=password, consent=consent)

    def deny(self, authorize_url: str, login: str | None = None, *, session: requests.Session | None = None) -> str:
        """The user aborts: at the login page (``login`` None) or, signed in as ``login``, at the consent page.

        Returns the redirect Location to the RP, carrying ``error=access_denied`` (not requested).
        """
        session = session if session is not None else requests.Session()
        self.last_session = session
        return self._walk(authorize_url, session, login=login, password="password", consent=False)

    def logout(
        self,
        session: requests.Session | None = None,
        post_logout_redirect_uri: str | None = None,
        *,
        client_id: str | None = None,
        id_token_hint: str | None = None,
        state: str | None = None,
    ) -> str:
        """Drive the provider's end-session page (``/session/end`` and its confirm form, "yes, sign me out").

        The provider ends its session and, before answering, POSTs a back-channel ``logout_token`` to every
        client of that session with a ``backchannel_logout_uri``. Returns the final Location (the
        ``post_logout_redirect_uri`` with ``state``, unrequested, or the provider's own success page).
        A ``post_logout_redirect_uri`` needs the client: ``client_id``, an ``id_token_hint``, or the one
        registered client that lists that URI.
        """
        session = session if session is not None else self.last_session
        if session is None:
            raise ValueError("logout needs the session the user signed in with")
        params: dict[str, str] = {}
        if post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
            if client_id is None and id_token_hint is None:
                owners = [
                    cid
                    for cid, meta in self.clients.items()
                    if post_logout_redirect_uri in (meta.get("post_logout_redirect_uris") or [])
                ]
                if len(owners) != 1:
                    raise ValueError(f"give client_id: {post_logout_redirect_uri} belongs to {owners or 'no client'}")
                client_id = owners[0]
        if client_id:
            params["client_id"] = client_id
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        if state:
            params["state"] = state
        end_session = self.discovery["end_session_endpoint"]
        url = end_session + ("?" + urllib.parse.urlencode(params) if params else "")
        location = self._walk(url, session, login=None, password="", consent=False)
        return location

    def end_session_success(self, location: str) -> bool:
        """Whether ``location`` is the provider's own "signed out" page."""
        return self._is_provider(location) and urllib.parse.urlsplit(location).path.startswith("/session/end/success")


def _require_node_project() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the OIDC provider for the SSO tests runs on Node.js (>= 20)")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(f"oidc-provider is not installed: run `npm ci --prefix {OIDC_DIR}` (.ci/run does)")
    return node


@contextlib.contextmanager
def start_oidc_idp(
    clients: Sequence[Mapping[str, Any]] = (),
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    workdir: Path | None = None,
    port: int = 0,
    conform_id_token_claims: bool = False,
) -> Iterator[OidcIdp]:
    """Start ``server.mjs`` on ``port`` (0: a free one), wait until discovery answers, stop it afterwards."""
    node = _require_node_project()
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oidc-idp-")))
        config = {
            "port": port,
            "clients": [dict(c) for c in clients],
            "accounts": {k: dict(v) for k, v in (DEFAULT_OIDC_ACCOUNTS if accounts is None else accounts).items()},
            "conform_id_token_claims": conform_id_token_claims,
        }
        config_path = workdir / "oidc-config.json"
        config_path.write_text(json.dumps(config, ensure_ascii=False))
        process = _Process("oidc-idp", [node, "server.mjs", str(config_path)], cwd=OIDC_DIR, env={}, workdir=workdir)
        stack.callback(process.stop)
        started = process.wait_for_line(lambda d: d.get("listening") is True, START_TIMEOUT)
        issuer = started["issuer"]
        process.wait_http(f"{issuer}/.well-known/openid-configuration", START_TIMEOUT, lambda r: r.status_code == 200)
        yield OidcIdp(process, issuer, config["clients"])


@pytest.fixture(scope="session")
def oidc_idp_clients() -> list[dict[str, Any]]:
    """Clients registered when the OIDC provider starts; override in a conftest (or use ``add_client``)."""
    return []


@pytest.fixture(scope="session")
def oidc_idp_accounts() -> dict[str, dict[str, Any]]:
    """Accounts (sub -> claims) the OIDC provider starts with; override in a conftest."""
    return json.loads(json.dumps(DEFAULT_OIDC_ACCOUNTS))


@pytest.fixture(scope="session")
def oidc_idp(
    oidc_idp_clients: list[dict[str, Any]],
    oidc_idp_accounts: dict[str, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OidcIdp]:
    """The city's OIDC provider (oidc-provider on Node), for the whole test session."""
    with start_oidc_idp(oidc_idp_clients, oidc_idp_accounts, workdir=tmp_path_factory.mktemp("oidc-idp")) as idp:
        yield idp


# --------------------------------------------------------------------------------------------------------------
# CAS

PLATFORM_SERVICE_PATTERN = r"^http://127\.0\.0\.1:\d+/sso/.*"
OTHER_SERVICE_PATTERN = r"^http://other\.example/.*"
OTHER_SERVICE = "http://other.example/app/"

DEFAULT_CAS_USERS: dict[str, dict[str, Any]] = {
    "zhangming": {
        "password": "zhangming-pw",
        "attributes": {
            "display_name": "张明",
            "mail": "zhangming@school1.wuhai.example",
            "mobile": "13800001001",
            "org_code": "150302001",
            "org_name": "乌海市第一中学",
            "identity_type": "teacher",
            "is_principal": True,
        },
    },
    "lihua": {
        "password": "lihua-pw",
        "attributes": {
            "display_name": "李华",
            "mail": "lihua@edu.wuhai.example",
            "mobile": "13800002001",
            "org_code": "150300",
            "org_name": "乌海市教育局",
            "identity_type": "staff",
            "is_principal": False,
        },
    },
}


class CasIdp:
    """A running django-cas-server (``tests/idp/cas``) and a driver that signs a user in at it."""

    def __init__(self, process: _Process, base_url: str, users_file: Path, users: Mapping[str, Any]) -> None:
        self._process = process
        self.base_url = base_url.rstrip("/")
        self.port = urllib.parse.urlsplit(self.base_url).port
        self.log_path = process.log_path
        self.users_file = users_file
        self.users: dict[str, dict[str, Any]] = json.loads(json.dumps(dict(users)))
        self.last_session: requests.Session | None = None
        self.other_service = OTHER_SERVICE

    # -- configuration at run time ------------------------------------------------------------------------------

    def _write_users(self) -> None:
        tmp = self.users_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.users, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.users_file)  # atomic: the server never reads half a file

    def set_user(
        self, username: str, password: str, attributes: Mapping[str, Any] | None = None, *, disabled: bool = False
    ) -> None:
        """Add or replace a user; the next password check and the next ticket see it.

        Attribute values: str, int, bool (released as "true"/"false"), a list of those (a multi-valued
        attribute), anything else as JSON text. ``disabled`` makes every password check fail.
        """
        self.users[username] = {"password": password, "attributes": dict(attributes or {}), "disabled": disabled}
        self._write_users()

    def remove_user(self, username: str) -> None:
        self.users.pop(username, None)
        self._write_users()

    # -- URLs -----------------------------------------------------------------------------------------------------

    def login_url(self, service: str, **params: str) -> str:
        return f"{self.base_url}/login?" + urllib.parse.urlencode({"service": service, **params})

    def validate(self, service: str, ticket: str, *, p3: bool = True, format: str | None = None) -> requests.Response:
        """Call ``/p3/serviceValidate`` (or ``/serviceValidate``) the way a CAS client does."""
        params = {"service": service, "ticket": ticket, **({"format": format} if format else {})}
        path = "/p3/serviceValidate" if p3 else "/serviceValidate"
        return requests.get(self.base_url + path, params=params, timeout=HTTP_TIMEOUT)

    # -- the browser's part --------------------------------------------------------------------------------------

    def _is_server(self, url: str) -> bool:
        return _origin(url) == _origin(self.base_url)

    def sign_in(self, login_url: str, username: str, password: str, *, session: requests.Session | None = None) -> str:
        """Sign in at ``login_url`` (``.../cas/login?service=...``) and return the redirect to the service.

        The returned URL is the service URL with ``ticket=ST-...``, not requested. If the session already has
        a CAS sign-on, no form appears and a ticket for that user comes back at once. Wrong credentials, a
        service no pattern allows, or any other page without a redirect raise ``IdpError`` with the page's
        messages. ``login_url`` may also be the RP's own URL that redirects to CAS (that first request is made).
        The session is kept as ``self.last_session`` (for ``logout``).
        """
        session = session if session is not None else requests.Session()
        self.last_session = session
        url, method, data = login_url, "GET", None
        submitted = False
        for _ in range(MAX_STEPS):
            if method == "GET":
                response = session.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
            else:
                response = session.post(url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)
            if response.is_redirect:
                location = urllib.parse.urljoin(response.url, response.headers["Location"])
                if not self._is_server(location):
                    return location
                url, method, data = location, "GET", None
                continue
            page = _parse(response.text) if response.status_code == 200 else None
            form = next((f for f in page.forms if "lt" in f.fields), None) if page else None
            if form is None or submitted:
                raise IdpError(f"CAS did not redirect to the service: {self._messages(response)}")
            data = {**form.fields, "username": username, "password": password}
            data.pop("warn", None)
            url, method, submitted = urllib.parse.urljoin(response.url, form.action), "POST", True
        raise IdpError(f"no redirect to the service after {MAX_STEPS} steps (last: {url})")

    @staticmethod
    def _messages(response: requests.Response) -> str:
        alerts = re.findall(r'<div[^>]*class="[^"]*alert[^"]*"[^>]*>(.*?)</div>', response.text, flags=re.S)
        text = " | ".join(" ".join(re.sub(r"<[^>]+>", " ", a).split()) for a in alerts)
        return f"HTTP {response.status_code} {response.url}: {text or response.text[:400]!r}"

    def ticket_for(self, service_url: str, username: str, password: str) -> str:
        """A fresh sign-in (a new session) for ``service_url``; returns the ``ST-...`` ticket alone."""
        location = self.sign_in(self.login_url(service_url), username, password, session=requests.Session())
        ticket = query_params(location).get("ticket")
        if not ticket:
            raise IdpError(f"no ticket in {location}")
        return ticket

    def logout(self, session: requests.Session | None = None, *, service: str | None = None) -> str:
        """``GET /cas/logout`` with the session's cookie: ends the CAS sign-on.

        Before answering, the server POSTs a SAML ``logoutRequest`` (form field) to each service the session
        got a ticket for whose pattern has single log-out. Returns the redirect Location when ``service`` is
        given (unrequested), else the URL of CAS's own "logout successful" page.
        """
        session = session if session is not None else self.last_session
        if session is None:
            raise ValueError("logout needs the session the user signed in with")
        params = {"service": service} if service else {}
        response = session.get(f"{self.base_url}/logout", params=params, allow_redirects=False, timeout=30)
        if response.is_redirect:
            return urllib.parse.urljoin(response.url, response.headers["Location"])
        if response.status_code != 200:
            raise IdpError(f"CAS logout failed: {self._messages(response)}")
        return response.url


def _cas_python() -> str:
    try:
        import cas_server  # noqa: F401
        import django  # noqa: F401
        import waitress  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"the CAS server for the SSO tests needs the dev extras (`pip install -e '.[dev]'`): {exc}")
    return sys.executable


@contextlib.contextmanager
def start_cas_idp(
    service_pattern: str = PLATFORM_SERVICE_PATTERN,
    users: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    workdir: Path | None = None,
    port: int = 0,
    extra_patterns: Sequence[Mapping[str, Any]] = (),
) -> Iterator[CasIdp]:
    """Start django-cas-server on ``port`` (0: a free one); wait until ``/cas/login`` answers; stop it after.

    Service patterns, first match wins: ``service_pattern`` (all attributes, single log-out on), then
    ``extra_patterns`` (``{"name", "pattern", "attributes": ["*" | "name" | "name:renamed"], "single_log_out"}``),
    then ``OTHER_SERVICE_PATTERN`` (no attributes, no single log-out).
    """
    python = _cas_python()
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cas-idp-")))
        users_file = workdir / "cas-users.json"
        initial = DEFAULT_CAS_USERS if users is None else users
        users_file.write_text(json.dumps(initial, ensure_ascii=False), encoding="utf-8")
        config = {
            "host": "127.0.0.1",
            "port": port,
            "data_dir": str(workdir / "cas-data"),
            "users_file": str(users_file),
            "service_patterns": [
                {"name": "platform", "pattern": service_pattern, "attributes": ["*"], "single_log_out": True},
                *[dict(p) for p in extra_patterns],
                {"name": "other", "pattern": OTHER_SERVICE_PATTERN, "attributes": [], "single_log_out": False},
            ],
        }
        config_path = workdir / "cas-config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        process = _Process(
            "cas-idp",
            [python, str(CAS_DIR / "run.py"), str(config_path)],
            cwd=CAS_DIR,
            env={"PYTHONUNBUFFERED": "1"},
            workdir=workdir,
        )
        stack.callback(process.stop)
        started = process.wait_for_line(lambda d: d.get("listening") is True, START_TIMEOUT)
        base_url = started["base_url"]
        process.wait_http(f"{base_url}/login", START_TIMEOUT, lambda r: r.status_code == 200)
        yield CasIdp(process, base_url, users_file, initial)


@pytest.fixture(scope="session")
def cas_idp_service_pattern() -> str:
    """The platform's service pattern at the CAS server (all attributes, single log-out); override to change."""
    return PLATFORM_SERVICE_PATTERN


@pytest.fixture(scope="session")
def cas_idp_users() -> dict[str, dict[str, Any]]:
    """Users the CAS server starts with (username -> {password, attributes}); override in a conftest."""
    return json.loads(json.dumps(DEFAULT_CAS_USERS))


@pytest.fixture(scope="session")
def cas_idp(
    cas_idp_service_pattern: str, cas_idp_users: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CasIdp]:
    """The city's CAS server (django-cas-server under waitress), for the whole test session."""
    with start_cas_idp(cas_idp_service_pattern, cas_idp_users, workdir=tmp_path_factory.mktemp("cas-idp")) as idp:
        yield idp


__all__ = [
    "DEFAULT_CAS_USERS",
    "DEFAULT_OIDC_ACCOUNTS",
    "OTHER_SERVICE",
    "OTHER_SERVICE_PATTERN",
    "PLATFORM_SERVICE_PATTERN",
    "CasIdp",
    "IdpError",
    "OidcIdp",
    "pkce_pair",
    "query_params",
    "start_cas_idp",
    "start_oidc_idp",
]
