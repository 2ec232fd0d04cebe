"""Server names: valid for JupyterHub 6, one per organization, case kept apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from jupyterhub.slugs import is_valid_safe_slug

from jupyter_clerk.hub.names import HUB_SERVER_NAME, organization_of, server_name

ORG_IDS = st.from_regex(r"org_[A-Za-z0-9]{1,64}", fullmatch=True)


@given(ORG_IDS)
def test_every_organization_gets_a_name_jupyterhub_6_accepts(org: str) -> None:
    name = server_name(org)
    assert HUB_SERVER_NAME.fullmatch(name)
    assert is_valid_safe_slug(name)  # JupyterHub's own check for new server names


def test_organizations_differing_only_in_case_get_different_servers() -> None:
    assert server_name("org_2aX") != server_name("org_2ax")


@given(st.lists(ORG_IDS, min_size=2, max_size=50, unique=True))
def test_distinct_organizations_never_share_a_server(orgs: list[str]) -> None:
    assert len({server_name(org) for org in orgs}) == len(orgs)


def test_a_server_name_is_resolved_from_the_persons_memberships() -> None:
    org = "org_2aDemoAnalyticalEngines"
    assert organization_of(server_name(org), {}, [org, "org_other"]) == org
    assert organization_of("", {}, [org]) is None


def test_user_options_must_name_the_organization_the_server_is_for() -> None:
    import pytest

    org, other = "org_2aDemoAnalyticalEngines", "org_2aDemoCompilerGuild"
    with pytest.raises(ValueError):
        organization_of(server_name(org), {"org": other}, [org, other])
    with pytest.raises(ValueError):
        organization_of(server_name(org), {}, [other])  # not a membership
    with pytest.raises(ValueError):
        organization_of(server_name(org), {"org": "org_../../x"}, [org])
