"""Upstream identity providers (统一身份认证) as configuration: one YAML file, validated at start-up.

`SSO_PROVIDERS_FILE` names the file; each entry is one provider (protocol, endpoints, client credentials
by environment variable name, parameter renames, claim mapping). Mappings are looked up by id among the
shipped `identity/sso/mappings/*.yaml` or given inline. A broken file stops the process with a message
naming the entry and field, rather than failing a user's sign-in later.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from identity.domain.model import User
from identity.domain.sso import ClaimMapping
from shared.config import ConfigError

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "sso" / "mappings"
_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)\}")

_CONDITION: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "properties": {
        "claim": {"type": "string", "minLength": 1},
        "equals": {},
        "in": {"type": "array"},
        "not_in": {"type": "array"},
        "exists": {"type": "boolean"},
        "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
        "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
        "not": {"$ref": "#/$defs/condition"},
    },
    "additionalProperties": False,
}

MAPPING_SCHEMA: dict[str, Any] = {
    "$defs": {"condition": _CONDITION},
    "type": "object",
    "required": ["id", "external_id", "orgs"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "external_id": {"type": "string", "minLength": 1},
        "username": {"type": "string"},
        "profile": {
            "type": "object",
            # the directory's profile too (学历, 民族, 教龄, 职务, 职称, 政治面貌): the base's claims fill it
            "propertyNames": {"enum": ["display_name", "phone", "email", "gender", "birth_date", *User.PROFILE_KEYS]},
            "additionalProperties": {"type": "string"},
        },
        "active": {"$ref": "#/$defs/condition"},
        "orgs": {
            "type": "object",
            "required": ["code"],
            "additionalProperties": False,
            "properties": {
                "from": {"type": "string"},
                "code": {"type": "string"},
                "name": {"type": "string"},
                "parent_code": {"type": "string"},
                "primary": {"$ref": "#/$defs/condition"},
                "level": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "claim": {"type": "string"},
                        "map": {
                            "type": "object",
                            "additionalProperties": {"enum": ["city", "county", "school", "university", "department"]},
                        },
                        "default": {"enum": ["city", "county", "school", "university", "department"]},
                    },
                },
            },
        },
        "roles": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["role"],
                "additionalProperties": False,
                "properties": {"role": {"type": "string"}, "when": {"$ref": "#/$defs/condition"}},
            },
        },
    },
}

_URL = {"type": "string", "pattern": "^https?://"}
PROVIDERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["providers"],
    "additionalProperties": False,
    "properties": {
        "providers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "protocol", "mapping", "org_scope"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9-]{1,32}$"},
                    "name": {"type": "string"},
                    "protocol": {"enum": ["oidc", "cas", "oauth2"]},
                    "mapping": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                    "client_id": {"type": "string"},
                    "client_id_env": {"type": "string"},
                    "client_secret_env": {"type": "string"},
                    "scopes": {"type": "array", "items": {"type": "string"}},
                    "issuer": _URL,
                    "discovery": {"type": "boolean"},
                    "endpoints": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            k: _URL
                            for k in (
                                "authorization_endpoint",
                                "token_endpoint",
                                "userinfo_endpoint",
                                "jwks_uri",
                                "end_session_endpoint",
                            )
                        },
                    },
                    "token_auth_method": {"enum": ["client_secret_basic", "client_secret_post"]},
                    "pkce": {"type": "boolean"},
                    "server_url": _URL,
                    "validate_path": {"type": "string", "pattern": "^/"},
                    "response_format": {"enum": ["xml", "json"]},
                    "params": {
                        "type": "object",
                        "propertyNames": {
                            "enum": [
                                "client_id",
                                "client_secret",
                                "redirect_uri",
                                "response_type",
                                "scope",
                                "state",
                                "code",
                                "grant_type",
                            ]
                        },
                        "additionalProperties": {"type": "string"},
                    },
                    "token_method": {"enum": ["GET", "POST"]},
                    "token_path": {"type": "string"},
                    "userinfo": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "method": {"enum": ["GET", "POST"]},
                            "token_in": {"enum": ["header", "query", "form"]},
                            "token_param": {"type": "string"},
                            "path": {"type": "string"},
                            "success": {"$ref": "#/$defs/condition"},
                            "message": {"type": "string"},
                        },
                    },
                    "logout": {"type": "boolean"},
                    "link_by_external_id": {"type": "boolean"},
                    "create_orgs": {"type": "boolean"},
                    "default_parent_code": {"type": "string"},
                    # The org subtrees this provider may place users in (codes of their roots): a city's
                    # base speaks for that city only, whatever org code it sends.
                    "org_scope": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"},
                    },
                },
            },
        }
    },
    "$defs": {"condition": _CONDITION},
}

DEFAULT_SCOPES = {"oidc": ["openid", "profile", "email", "phone"], "cas": [], "oauth2": []}
# What each protocol cannot do without.
REQUIRED_BY_PROTOCOL = {
    "oidc": ("issuer",),
    "cas": ("server_url",),
    "oauth2": ("endpoints",),
}


@dataclass(frozen=True)
class UserinfoCall:
    """How a non-standard user-info call is made and read (the OAuth2 variants)."""

    method: str = "GET"
    token_in: str = "header"
    token_param: str = "access_token"
    path: str | None = None
    success: dict[str, Any] | None = None
    message: str | None = None


@dataclass(frozen=True)
class ProviderConfig:
    id: str
    name: str
    protocol: str
    mapping: ClaimMapping
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    scopes: tuple[str, ...] = ()
    issuer: str | None = None
    discovery: bool = True
    endpoints: dict[str, str] = field(default_factory=dict)
    token_auth_method: str = "client_secret_basic"
    pkce: bool = True
    server_url: str | None = None
    validate_path: str = "/p3/serviceValidate"
    response_format: str = "xml"
    params: dict[str, str] = field(default_factory=dict)
    token_method: str = "POST"
    token_path: str | None = None
    userinfo: UserinfoCall = field(default_factory=UserinfoCall)
    logout: bool = True
    link_by_external_id: bool = True
    create_orgs: bool = True
    default_parent_code: str | None = None
    org_scope: tuple[str, ...] = ()

    def param(self, name: str) -> str:
        """The name this platform uses for a standard OAuth parameter (some rename client_id to appId...)."""
        return self.params.get(name, name)


def _expand(value: Any, where: str) -> Any:
    """`${VAR}` in strings from the environment, so one file serves several deployments."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"{where}: environment variable {name} is not set")
            return os.environ[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _validate(document: Any, schema: dict[str, Any], where: str) -> None:
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        location = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ConfigError(f"{where}: {location}: {first.message}")


def load_mapping(source: str | dict[str, Any], where: str) -> ClaimMapping:
    if isinstance(source, dict):
        document: Any = source
        where = f"{where} (inline mapping)"
    else:
        path = MAPPINGS_DIR / f"{source}.yaml"
        if not re.fullmatch(r"[a-z0-9-]+", source) or not path.is_file():
            known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
            raise ConfigError(f"{where}: no claim mapping {source!r} (shipped: {known})")
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        where = str(path)
    _validate(document, MAPPING_SCHEMA, where)
    return ClaimMapping.from_document(document)


def parse_providers(document: Any, where: str = "SSO providers") -> dict[str, ProviderConfig]:
    document = _expand(document, where)
    _validate(document, PROVIDERS_SCHEMA, where)
    providers: dict[str, ProviderConfig] = {}
    for entry in document["providers"]:
        here = f"{where}: provider {entry['id']!r}"
        if entry["id"] in providers:
            raise ConfigError(f"{here}: the id is used twice")
        for needed in REQUIRED_BY_PROTOCOL[entry["protocol"]]:
            if needed not in entry:
                raise ConfigError(f"{here}: a {entry['protocol']} provider needs {needed!r}")
        if entry["protocol"] == "oauth2":
            missing = {"authorization_endpoint", "token_endpoint", "userinfo_endpoint"} - set(entry["endpoints"])
            if missing:
                raise ConfigError(f"{here}: endpoints lacks {', '.join(sorted(missing))}")
        if entry["protocol"] == "oidc" and not entry.get("discovery", True):
            missing = {"authorization_endpoint", "token_endpoint", "jwks_uri"} - set(entry.get("endpoints", {}))
            if missing:
                raise ConfigError(f"{here}: without discovery, endpoints needs {', '.join(sorted(missing))}")
        client_id = entry.get("client_id") or (
            os.environ.get(entry["client_id_env"], "") if "client_id_env" in entry else ""
        )
        if entry["protocol"] != "cas" and not client_id:
            raise ConfigError(f"{here}: client_id (or client_id_env naming a set variable) is required")
        secret = ""
        if "client_secret_env" in entry:
            secret = os.environ.get(entry["client_secret_env"], "")
            if not secret:
                raise ConfigError(f"{here}: environment variable {entry['client_secret_env']} is not set")
        userinfo = entry.get("userinfo", {})
        providers[entry["id"]] = ProviderConfig(
            id=entry["id"],
            name=entry["name"],
            protocol=entry["protocol"],
            mapping=load_mapping(entry["mapping"], here),
            client_id=client_id,
            client_secret=secret,
            scopes=tuple(
                entry.get("scopes", ["openid", "profile", "email", "phone"] if entry["protocol"] == "oidc" else [])
            ),
            issuer=entry.get("issuer"),
            discovery=entry.get("discovery", True),
            endpoints=dict(entry.get("endpoints", {})),
            token_auth_method=entry.get("token_auth_method", "client_secret_basic"),
            pkce=entry.get("pkce", entry["protocol"] == "oidc"),
            server_url=entry.get("server_url", "").rstrip("/") or None,
            validate_path=entry.get("validate_path", "/p3/serviceValidate"),
            response_format=entry.get("response_format", "xml"),
            params=dict(entry.get("params", {})),
            token_method=entry.get("token_method", "POST"),
            token_path=entry.get("token_path"),
            userinfo=UserinfoCall(
                method=userinfo.get("method", "GET"),
                token_in=userinfo.get("token_in", "header"),
                token_param=userinfo.get("token_param", "access_token"),
                path=userinfo.get("path"),
                success=userinfo.get("success"),
                message=userinfo.get("message"),
            ),
            logout=entry.get("logout", True),
            link_by_external_id=entry.get("link_by_external_id", True),
            create_orgs=entry.get("create_orgs", True),
            default_parent_code=entry.get("default_parent_code"),
            org_scope=tuple(entry["org_scope"]),
        )
    return providers


def load_providers(path: str | None) -> dict[str, ProviderConfig]:
    """The providers of `path` (none when unset: local accounts only)."""
    if not path:
        return {}
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"SSO_PROVIDERS_FILE={path}: no such file")
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_providers(document, str(path))
