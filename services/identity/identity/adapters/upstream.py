"""Clients of the upstream identity providers: OIDC (code + PKCE), CAS 2.0/3.0 and OAuth2 variants.

Each client turns a callback into the user info the claim mapping reads, and refuses whatever the
protocol says must be refused (wrong issuer, audience, nonce, signature, expired token, a ticket for
another service). Failures are `UpstreamError`s carrying a reason code and messages a person can read;
nothing here logs or returns a token.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

import jwt
import requests
from authlib.integrations.base_client.errors import OAuthError as AuthlibOAuthError
from authlib.integrations.requests_client import OAuth2Session
from defusedxml import DefusedXmlException, ElementTree

from identity.adapters.metrics import UPSTREAM_LATENCY
from identity.adapters.sso_config import ProviderConfig
from identity.domain.sso import Condition, SignInRefused, lookup

TIMEOUT_SECONDS = 10
DISCOVERY_TTL_SECONDS = 3600
JWKS_REFETCH_COOLDOWN_SECONDS = 5
CAS_NS = {"cas": "http://www.yale.edu/tp/cas"}
SAML_NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Asymmetric algorithms only: an HS256 id_token would be signed with our client secret.
SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

T = TypeVar("T")


class UpstreamError(SignInRefused):
    """The upstream provider failed or refused (a sign-in refusal whose cause is upstream, 502 by default)."""

    def __init__(self, reason: str, zh: str, en: str, status: int = 502) -> None:
        super().__init__(reason, zh, en, status)


def _down(provider: ProviderConfig) -> UpstreamError:
    return UpstreamError(
        "upstream_down",
        f"统一身份认证平台（{provider.name}）暂时无法访问，请稍后再试。",
        f"The city's identity platform ({provider.name}) cannot be reached right now; try again later.",
        status=502,
    )


def _invalid(provider: ProviderConfig, what: str) -> UpstreamError:
    return UpstreamError(
        "invalid_response",
        f"统一身份认证平台返回的登录凭据无效（{what}），请重新登录。",
        f"The identity platform's sign-in answer is not valid ({what}); sign in again.",
        status=401,
    )


def _timed(provider: ProviderConfig, call: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    try:
        return action()
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _down(provider) from exc
    finally:
        UPSTREAM_LATENCY.labels(provider.id, call).observe(time.perf_counter() - started)


def _json(provider: ProviderConfig, response: requests.Response, what: str) -> Any:
    if response.status_code >= 500:
        raise _down(provider)
    try:
        return response.json()
    except ValueError as exc:
        raise _invalid(provider, f"{what} is not JSON") from exc


class OidcClient:
    """An OpenID Connect relying party: authorization code with PKCE (S256), state and nonce."""

    def __init__(self, provider: ProviderConfig, http: requests.Session | None = None) -> None:
        self.provider = provider
        self.http = http or requests.Session()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        """Discovery (cached an hour), with the configured endpoints winning over it."""
        p = self.provider
        with self._lock:
            fresh = self._metadata is not None and time.monotonic() - self._metadata_at < DISCOVERY_TTL_SECONDS
            if not fresh:
                found: dict[str, Any] = {}
                if p.discovery:
                    url = f"{(p.issuer or '').rstrip('/')}/.well-known/openid-configuration"
                    response = _timed(p, "discovery", lambda: self.http.get(url, timeout=TIMEOUT_SECONDS))
                    if response.status_code != 200:
                        raise _down(p)
                    found = _json(p, response, "discovery")
                    if found.get("issuer") != p.issuer:
                        raise _invalid(p, "discovery issuer differs from the configured issuer")
                self._metadata = {**found, **p.endpoints}
                self._metadata_at = time.monotonic()
            assert self._metadata is not None
            return self._metadata

    def _session(self, redirect_uri: str | None = None) -> OAuth2Session:
        session = OAuth2Session(
            self.provider.client_id,
            self.provider.client_secret,
            scope=" ".join(self.provider.scopes),
            redirect_uri=redirect_uri,
            token_endpoint_auth_method=self.provider.token_auth_method,
            code_challenge_method="S256" if self.provider.pkce else None,
            default_timeout=TIMEOUT_SECONDS,
        )
        return session

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, code_verifier: str) -> str:
        url, _ = self._session(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_verifier=code_verifier if self.provider.pkce else None,
        )
        return str(url)

    def exchange(self, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """The token response for `code`; a used, expired or foreign code is refused by the provider."""
        p = self.provider
        extra = {"code_verifier": code_verifier} if p.pkce else {}
        try:
            token = _timed(
                p,
                "token",
                lambda: self._session(redirect_uri).fetch_token(
                    self.metadata()["token_endpoint"], code=code, grant_type="authorization_code", **extra
                ),
            )
        except AuthlibOAuthError as exc:
            raise UpstreamError(
                "upstream_refused",
                "统一身份认证平台拒绝了本次登录（授权码无效或已使用），请重新登录。",
                f"The identity platform refused the sign-in ({exc.error}): the code is invalid or was used.",
                status=401,
            ) from exc
        return dict(token)

    def _keys(self) -> jwt.PyJWKClient:
        if self._jwks is None:
            # PyJWKClient fetches the JWKS again when a kid is unknown (upstream key rotation), at most once per
            # cooldown, so tokens with made-up kids cannot make us hammer the upstream.
            self._jwks = jwt.PyJWKClient(
                self.metadata()["jwks_uri"],
                cache_keys=True,
                timeout=TIMEOUT_SECONDS,
                cooldown_duration=JWKS_REFETCH_COOLDOWN_SECONDS,
            )
        return self._jwks

    def _decode(self, token: str, what: str, **options: Any) -> dict[str, Any]:
        p = self.provider
        try:
            key = _timed(p, "jwks", lambda: self._keys().get_signing_key_from_jwt(token))
        except jwt.PyJWKClientConnectionError as exc:
            raise _down(p) from exc
        except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
            raise _invalid(p, f"{what} signing key unknown") from exc
        try:
            return dict(
                jwt.decode(
                    token,
                    key.key,
                    algorithms=SIGNING_ALGORITHMS,
                    audience=p.client_id,
                    issuer=p.issuer,
                    leeway=30,
                    **options,
                )
            )
        except jwt.InvalidAudienceError as exc:
            raise _invalid(p, f"{what} is for another client") from exc
        except jwt.ExpiredSignatureError as exc:
            raise _invalid(p, f"{what} expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise _invalid(p, f"{what} from another issuer") from exc
        except jwt.InvalidTokenError as exc:
            raise _invalid(p, f"{what}: {exc}") from exc

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: signature, iss, aud (and azp), exp, iat, and our nonce."""
        claims = self._decode(id_token, "id_token", options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise _invalid(self.provider, "id_token azp is not this client")
        if claims.get("nonce") != nonce:
            raise _invalid(self.provider, "id_token nonce does not match this sign-in")
        return claims

    def userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        endpoint = self.metadata().get("userinfo_endpoint")
        if not endpoint:
            return {}
        p = self.provider
        response = _timed(
            p,
            "userinfo",
            lambda: self.http.get(
                endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT_SECONDS
            ),
        )
        if response.status_code != 200:
            raise _invalid(p, f"userinfo answered {response.status_code}")
        info = _json(p, response, "userinfo")
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise _invalid(p, "userinfo is about another user")  # OIDC Core §5.3.2
        return info

    def verify_logout_token(self, logout_token: str) -> dict[str, Any]:
        """OIDC Back-Channel Logout §2.6: signed, ours, unexpired, an id to spend it once (`jti`), an events
        claim, sid or sub, and never a nonce."""
        claims = self._decode(logout_token, "logout_token", options={"require": ["iat", "exp", "jti", "iss", "aud"]})
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events:
            raise _invalid(self.provider, "logout_token has no back-channel logout event")
        if "nonce" in claims:
            raise _invalid(self.provider, "logout_token carries a nonce")
        if not claims.get("sid") and not claims.get("sub"):
            raise _invalid(self.provider, "logout_token names neither sid nor sub")
        return claims

    def end_session_url(self, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except UpstreamError:
            return None  # signing out here must work while the upstream is down
        if not endpoint or not self.provider.logout:
            return None
        params = {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": self.provider.client_id}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urllib.parse.urlencode(params)}"


class CasClient:
    """A CAS 2.0/3.0 client: `/login` redirect and `serviceValidate` (XML or JSON) with attributes."""

    def __init__(self, provider: ProviderConfig, http: requests.Session | None = None) -> None:
        self.provider = provider
        self.http = http or requests.Session()

    def login_url(self, service: str) -> str:
        return f"{self.provider.server_url}/login?{urllib.parse.urlencode({'service': service})}"

    def logout_url(self, service: str) -> str | None:
        if not self.provider.logout:
            return None
        return f"{self.provider.server_url}/logout?{urllib.parse.urlencode({'service': service})}"

    def validate(self, ticket: str, service: str) -> dict[str, Any]:
        """`{"user": ..., "attributes": {...}}` for a ticket issued to `service`, else UpstreamError."""
        p = self.provider
        params = {"service": service, "ticket": ticket}
        if p.response_format == "json":
            params["format"] = "JSON"
        url = f"{p.server_url}{p.validate_path}"
        response = _timed(p, "validate", lambda: self.http.get(url, params=params, timeout=TIMEOUT_SECONDS))
        if response.status_code >= 500:
            raise _down(p)
        if p.response_format == "json":
            return self._from_json(response.text)
        return self._from_xml(response.text)

    def _refused(self, code: str) -> UpstreamError:
        return UpstreamError(
            "upstream_refused",
            "统一身份认证平台拒绝了本次登录票据（票据无效、已使用或不属于本平台），请重新登录。",
            f"The identity platform refused the ticket ({code}): it is invalid, used, or for another service.",
            status=401,
        )

    def _from_xml(self, text: str) -> dict[str, Any]:
        try:
            root = ElementTree.fromstring(text)
        except (ElementTree.ParseError, DefusedXmlException) as exc:
            raise _invalid(self.provider, "serviceValidate is not plain XML") from exc
        failure = root.find("cas:authenticationFailure", CAS_NS)
        if failure is not None:
            raise self._refused(failure.get("code", "UNKNOWN"))
        success = root.find("cas:authenticationSuccess", CAS_NS)
        user = success.findtext("cas:user", namespaces=CAS_NS) if success is not None else None
        if success is None or not user:
            raise _invalid(self.provider, "serviceValidate has no user")
        attributes: dict[str, Any] = {}
        block = success.find("cas:attributes", CAS_NS)
        for element in list(block) if block is not None else []:
            name = element.tag.split("}", 1)[-1]
            value = (element.text or "").strip()
            if name == "attribute" and element.get("name"):  # the RubyCAS style some servers add
                name, value = element.get("name", ""), element.get("value", "")
            if name in attributes:  # a multi-valued attribute repeats its element
                previous = attributes[name]
                attributes[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                attributes[name] = value
        return {"user": user.strip(), "attributes": attributes}

    def _from_json(self, text: str) -> dict[str, Any]:
        try:
            body = json.loads(text)["serviceResponse"]
        except (ValueError, KeyError, TypeError) as exc:
            raise _invalid(self.provider, "serviceValidate is not CAS JSON") from exc
        if "authenticationFailure" in body:
            raise self._refused(str(body["authenticationFailure"].get("code", "UNKNOWN")))
        success = body.get("authenticationSuccess") or {}
        if not success.get("user"):
            raise _invalid(self.provider, "serviceValidate has no user")
        return {"user": str(success["user"]), "attributes": dict(success.get("attributes") or {})}

    @staticmethod
    def session_index(logout_request: str) -> str | None:
        """The service ticket a CAS single-logout request names (SAML LogoutRequest/SessionIndex)."""
        try:
            root = ElementTree.fromstring(logout_request)
        except (ElementTree.ParseError, DefusedXmlException):
            return None
        index = root.findtext("samlp:SessionIndex", namespaces=SAML_NS)
        return index.strip() if index else None


class OAuth2VariantClient:
    """The proprietary code flows of Chinese education platforms: code → token → a user-info call whose
    parameter names, token placement and response envelope come from configuration."""

    def __init__(self, provider: ProviderConfig, http: requests.Session | None = None) -> None:
        self.provider = provider
        self.http = http or requests.Session()

    def authorization_url(self, redirect_uri: str, state: str, code_challenge: str | None) -> str:
        p = self.provider
        params = {
            p.param("response_type"): "code",
            p.param("client_id"): p.client_id,
            p.param("redirect_uri"): redirect_uri,
            p.param("state"): state,
        }
        if p.scopes:
            params[p.param("scope")] = " ".join(p.scopes)
        if code_challenge:
            params.update(code_challenge=code_challenge, code_challenge_method="S256")
        endpoint = p.endpoints["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urllib.parse.urlencode(params)}"

    def exchange(self, code: str, redirect_uri: str, code_verifier: str | None) -> str:
        """The access token for `code`."""
        p = self.provider
        params = {
            p.param("grant_type"): "authorization_code",
            p.param("code"): code,
            p.param("redirect_uri"): redirect_uri,
            p.param("client_id"): p.client_id,
        }
        auth = None
        if p.token_auth_method == "client_secret_basic":
            auth = (p.client_id, p.client_secret)
        else:
            params[p.param("client_secret")] = p.client_secret
        if code_verifier:
            params["code_verifier"] = code_verifier
        endpoint = p.endpoints["token_endpoint"]
        query, form = (params, None) if p.token_method == "GET" else (None, params)
        response = _timed(
            p,
            "token",
            lambda: self.http.request(
                p.token_method,
                endpoint,
                params=query,
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=TIMEOUT_SECONDS,
            ),
        )
        body = _json(p, response, "token response")
        token = lookup(body, p.token_path or "access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise UpstreamError(
                "upstream_refused",
                "统一身份认证平台拒绝了本次登录（授权码无效或已使用），请重新登录。",
                "The identity platform refused the sign-in: the code is invalid or was used.",
                status=401,
            )
        return token

    def userinfo(self, access_token: str) -> dict[str, Any]:
        p = self.provider
        call = p.userinfo
        endpoint = p.endpoints["userinfo_endpoint"]
        kwargs: dict[str, Any] = {"timeout": TIMEOUT_SECONDS, "headers": {"Accept": "application/json"}}
        if call.token_in == "header":
            kwargs["headers"]["Authorization"] = f"Bearer {access_token}"
        elif call.token_in == "query":
            kwargs["params"] = {call.token_param: access_token}
        else:
            kwargs["data"] = {call.token_param: access_token}
        response = _timed(p, "userinfo", lambda: self.http.request(call.method, endpoint, **kwargs))
        body = _json(p, response, "user info")
        if response.status_code != 200 or (call.success and not Condition(call.success).holds(body)):
            message = lookup(body, call.message) if call.message else None
            detail = message if isinstance(message, str) else f"status {response.status_code}"
            raise _invalid(p, f"user info refused: {detail}")
        info = lookup(body, call.path)
        if not isinstance(info, dict):
            raise _invalid(p, "user info has no user")
        return info
