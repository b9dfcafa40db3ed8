"""Claim mappings and provider files: upstream user info → our user, org and grants; broken files fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from identity.adapters.sso_config import MAPPINGS_DIR, load_mapping, load_providers, parse_providers
from identity.domain.sso import SignInRefused

from shared.config import ConfigError

OIDC_CLAIMS = {
    "sub": "u-1001",
    "preferred_username": "Zhang.San",
    "name": "张三",
    "phone_number": "13800138000",
    "email": "zhangsan@example.cn",
    "org_code": "4108020001",
    "org_name": "解放区第一实验小学",
    "parent_org_code": "410802",
    "identity_type": "teacher",
    "is_principal": True,
}

EDU_CLOUD = {
    "userId": "ec-77",
    "loginName": "lisi",
    "realName": "李四",
    "mobile": "13900139000",
    "status": 1,
    "user_org": [
        {"org_code": "410802", "org_name": "解放区教育局", "org_type": 1, "parent_code": "4108", "is_main": 0},
        {
            "org_code": "4108020009",
            "org_name": "解放区第九小学",
            "org_type": 2,
            "parent_code": "410802",
            "is_principal": 1,
            "is_main": 1,
        },
    ],
}


def test_every_shipped_mapping_loads() -> None:
    ids = sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))
    assert ids == ["cas-attributes", "education-cloud", "standard-oidc"]
    for mapping_id in ids:
        assert load_mapping(mapping_id, "test").id == mapping_id


def test_standard_oidc_principal_becomes_school_admin_of_their_school() -> None:
    mapped = load_mapping("standard-oidc", "test").apply(OIDC_CLAIMS, "city-oidc")
    assert mapped.external_id == "u-1001"
    assert mapped.username == "zhang.san@city-oidc"
    assert mapped.profile == {"display_name": "张三", "phone": "13800138000", "email": "zhangsan@example.cn"}
    assert (mapped.org.code, mapped.org.parent_code, mapped.org.level) == ("4108020001", "410802", "school")
    assert mapped.roles == [("school_admin", "4108020001")]


def test_a_teacher_without_the_principal_flag_gets_no_role() -> None:
    claims = {**OIDC_CLAIMS, "is_principal": "0"}
    assert load_mapping("standard-oidc", "test").apply(claims, "city-oidc").roles == []


def test_a_disabled_upstream_account_is_refused() -> None:
    with pytest.raises(SignInRefused) as refused:
        load_mapping("standard-oidc", "test").apply({**OIDC_CLAIMS, "account_status": "disabled"}, "city-oidc")
    assert refused.value.reason == "account_disabled"
    assert "停用" in refused.value.zh


def test_a_user_with_no_unit_is_refused_with_a_readable_reason() -> None:
    claims = {k: v for k, v in OIDC_CLAIMS.items() if k != "org_code"}
    with pytest.raises(SignInRefused) as refused:
        load_mapping("standard-oidc", "test").apply(claims, "city-oidc")
    assert refused.value.reason == "no_org"
    assert "organisation" in refused.value.en


def test_education_cloud_user_org_list_gives_a_role_per_org_and_the_main_org_as_home() -> None:
    mapped = load_mapping("education-cloud", "test").apply(EDU_CLOUD, "edu-cloud")
    assert mapped.org.code == "4108020009"
    assert [(o.code, o.level) for o in mapped.orgs] == [("410802", "county"), ("4108020009", "school")]
    assert mapped.roles == [("county_reviewer", "410802"), ("school_admin", "4108020009")]
    assert mapped.profile["display_name"] == "李四"


def test_education_cloud_status_zero_is_disabled() -> None:
    with pytest.raises(SignInRefused) as refused:
        load_mapping("education-cloud", "test").apply({**EDU_CLOUD, "status": 0}, "edu-cloud")
    assert refused.value.reason == "account_disabled"


def test_cas_attributes_and_multi_valued_lists() -> None:
    info = {
        "user": "wangwu",
        "attributes": {
            "display_name": ["王五"],
            "mail": "wangwu@example.cn",
            "org_code": "4108210001",
            "identity_type": "teacher",
            "is_principal": "1",
        },
    }
    mapped = load_mapping("cas-attributes", "test").apply(info, "city-cas")
    assert mapped.username == "wangwu@city-cas"
    assert mapped.profile["display_name"] == "王五"
    assert mapped.roles == [("school_admin", "4108210001")]


def test_usernames_are_sanitised_and_fit_64_characters() -> None:
    mapped = load_mapping("standard-oidc", "test").apply(
        {**OIDC_CLAIMS, "preferred_username": "张 三/" + "x" * 80}, "city-oidc"
    )
    assert len(mapped.username) <= 64
    assert mapped.username.endswith("@city-oidc")
    assert all(c.isalnum() or c in "._-@" for c in mapped.username)


def _providers(tmp_path: Path, entry: dict) -> Path:
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump({"providers": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


OIDC_ENTRY = {
    "id": "city-oidc",
    "name": "乌海市教育数字基座",
    "protocol": "oidc",
    "issuer": "https://id.example.cn",
    "client_id": "cio-platform",
    "client_secret_env": "CITY_OIDC_SECRET",
    "mapping": "standard-oidc",
    "org_scope": ["1503"],
}


def test_a_provider_file_loads_with_the_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITY_OIDC_SECRET", "s3cret")
    monkeypatch.setenv("CITY_ISSUER", "https://id.wuhai.example.cn")
    providers = load_providers(str(_providers(tmp_path, {**OIDC_ENTRY, "issuer": "${CITY_ISSUER}"})))
    provider = providers["city-oidc"]
    assert provider.client_secret == "s3cret"
    assert provider.issuer == "https://id.wuhai.example.cn"
    assert provider.scopes == ("openid", "profile", "email", "phone")
    assert "s3cret" not in repr(provider)


def test_a_missing_secret_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CITY_OIDC_SECRET"):
        load_providers(str(_providers(tmp_path, OIDC_ENTRY)))


def test_a_misspelt_field_names_the_provider_and_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_OIDC_SECRET", "s3cret")
    with pytest.raises(ConfigError, match="issuers"):
        load_providers(str(_providers(tmp_path, {**OIDC_ENTRY, "issuers": "https://x"})))


def test_an_unknown_mapping_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="standard-oidc"):
        parse_providers({"providers": [{**OIDC_ENTRY, "client_secret_env": "HOME", "mapping": "nope"}]})


def test_an_oauth2_variant_needs_its_three_endpoints() -> None:
    entry = {
        "id": "edu-cloud",
        "name": "教育云",
        "protocol": "oauth2",
        "client_id": "app",
        "endpoints": {"authorization_endpoint": "https://e.example/auth"},
        "mapping": "education-cloud",
        "org_scope": ["1503"],
    }
    with pytest.raises(ConfigError, match="token_endpoint, userinfo_endpoint"):
        parse_providers({"providers": [entry]})


def test_an_inline_mapping_with_a_bad_condition_is_rejected() -> None:
    entry = {
        **OIDC_ENTRY,
        "client_secret_env": "HOME",
        "mapping": {
            "id": "x",
            "external_id": "sub",
            "orgs": {"code": "org"},
            "roles": [{"role": "a", "when": {"eq": 1}}],
        },
    }
    with pytest.raises(ConfigError, match=r"roles\.0\.when"):
        parse_providers({"providers": [entry]})


def test_the_example_providers_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[3] / "deploy" / "sso" / "providers.example.yaml"
    for name, value in {
        "CITY_OIDC_ISSUER": "https://id.example.cn",
        "CITY_OIDC_CLIENT_ID": "cio-platform",
        "CITY_OIDC_CLIENT_SECRET": "s1",
        "CITY_CAS_URL": "https://cas.example.cn/cas",
        "EDU_CLOUD_APP_ID": "app",
        "EDU_CLOUD_APP_SECRET": "s2",
        "EDU_CLOUD_URL": "https://cloud.example.cn",
    }.items():
        monkeypatch.setenv(name, value)
    providers = load_providers(str(example))
    assert [p.protocol for p in providers.values()] == ["oidc", "cas", "oauth2"]
    assert providers["edu-cloud"].param("client_id") == "appId"
    assert providers["city-cas"].server_url == "https://cas.example.cn/cas"


def test_a_provider_without_an_org_scope_stops_start_up() -> None:
    entry = {k: v for k, v in OIDC_ENTRY.items() if k != "org_scope"}
    with pytest.raises(ConfigError, match="org_scope"):
        parse_providers({"providers": [{**entry, "client_secret_env": "HOME"}]})


def test_an_empty_org_scope_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="org_scope"):
        parse_providers({"providers": [{**OIDC_ENTRY, "client_secret_env": "HOME", "org_scope": []}]})
