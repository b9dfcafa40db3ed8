"""Scope by materialized path: a grant covers its org and the subtree, segment by segment."""

import sqlalchemy as sa

from shared.errors import NotFound
from shared.principal import Grant, Principal
from shared.scope import path_within, within_any


def test_path_within_is_segment_wise() -> None:
    assert path_within("/4108/410802/4108020001", "/4108/410802")
    assert path_within("/4108/410802", "/4108/410802")
    assert not path_within("/4108/4108021", "/4108/410802")
    assert not path_within("/4108", "/4108/410802")
    assert path_within("/10417", "/")


def test_record_outside_subtree_is_not_found() -> None:
    county = Principal("u1", (Grant("county_reviewer", "/4108/410802"),))
    county.require_within("/4108/410802/4108020001", "county_reviewer")
    try:
        county.require_within("/4108/410821/4108210001", "county_reviewer")
    except NotFound:
        pass
    else:
        raise AssertionError("a school of another county must be a 404")


def test_role_must_match_at_that_path() -> None:
    p = Principal("u1", (Grant("school_admin", "/4108/410802/4108020001"), Grant("auditor", "/")))
    assert p.can("/4108/410821", "auditor")
    assert not p.can("/4108/410821", "school_admin")
    assert p.paths("school_admin") == ["/4108/410802/4108020001"]


def test_within_any_selects_subtrees_in_sql(pg_database: str) -> None:
    engine = sa.create_engine(pg_database)
    meta = sa.MetaData()
    t = sa.Table("t", meta, sa.Column("path", sa.String))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            t.insert(),
            [{"path": p} for p in ["/4108", "/4108/410802", "/4108/410802/1", "/4108/4108021", "/10417", "/41_8"]],
        )
        got = sorted(r[0] for r in conn.execute(sa.select(t.c.path).where(within_any(t.c.path, ["/4108/410802"]))))
        assert got == ["/4108/410802", "/4108/410802/1"]
        # LIKE wildcards in a path are literal, not patterns
        assert [r[0] for r in conn.execute(sa.select(t.c.path).where(within_any(t.c.path, ["/41_8"])))] == ["/41_8"]
        assert len(list(conn.execute(sa.select(t.c.path).where(within_any(t.c.path, ["/"]))))) == 6
        assert list(conn.execute(sa.select(t.c.path).where(within_any(t.c.path, [])))) == []


def test_an_empty_grant_path_never_means_everywhere() -> None:
    assert not path_within("/4108/410802", "")
    assert not path_within("/4108", "4108")
    assert not path_within("/4108", "//")
    lost = Principal("u1", (Grant("platform_admin", ""),))
    assert not lost.can("/4108", "platform_admin")


def test_a_token_grant_without_an_org_path_grants_nothing() -> None:
    from shared.principal import principal_from_claims

    principal = principal_from_claims({"sub": "u1", "grants": [["platform_admin", ""], ["auditor", "/4108"]]})
    assert principal.grants == (Grant("auditor", "/4108"),)


def test_within_any_selects_nothing_for_an_empty_grant_path() -> None:
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    t = sa.Table("t", meta, sa.Column("path", sa.String))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"path": "/4108"}, {"path": "/10417"}])
        found = conn.execute(sa.select(t.c.path).where(within_any(t.c.path, ["", "//"]))).scalars().all()
    assert found == []
