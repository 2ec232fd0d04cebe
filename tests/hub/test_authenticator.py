"""ClerkAuthenticator against the local Clerk instance: sign-in, names, refresh, caches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_clerk.devinstance import DevInstance
from jupyter_clerk.errors import ClerkConfigError
from jupyter_clerk.hub.authenticator import ClerkAuthenticator
from jupyter_clerk.hub.org_roles import admin_role_name
from tests.hub.conftest import ADA, ENGINES, PARTNERS, VERA

ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def instance(loop: asyncio.AbstractEventLoop) -> Iterator[DevInstance]:
    instance = DevInstance(allowed_origins=[ORIGIN])
    loop.run_until_complete(instance.start())
    yield instance
    loop.run_until_complete(instance.stop())


def hub_config(instance: DevInstance) -> Config:
    """A Hub's configuration for the local instance, as an operator writes it."""
    config = Config()
    config.ClerkAuthenticator.publishable_key = instance.publishable_key
    config.ClerkAuthenticator.secret_key = instance.secret_key
    config.ClerkAuthenticator.api_url = instance.api_url
    config.ClerkAuthenticator.allow_local_instance = True
    config.ClerkAuthenticator.authorized_parties = [ORIGIN]
    return config


@pytest.fixture
def authenticator(instance: DevInstance, monkeypatch: pytest.MonkeyPatch) -> ClerkAuthenticator:
    monkeypatch.setenv("JUPYTERHUB_CRYPT_KEY", "a" * 64)
    return ClerkAuthenticator(config=hub_config(instance))


class HubUser:
    """What refresh_user reads of a Hub user: its name and its stored auth_state."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.name = model["name"]
        self.state = model["auth_state"]

    async def get_auth_state(self) -> dict[str, Any]:
        return self.state


def sign_in(loop, instance: DevInstance, authenticator, user_id: str) -> dict[str, Any]:
    session = instance.create_session(user_id)
    token = instance.session_token(session.id)
    model = loop.run_until_complete(
        authenticator.get_authenticated_user(SimpleNamespace(), {"session_token": token})
    )
    assert model is not None
    return model


def test_it_is_the_clerk_entry_point() -> None:
    from importlib.metadata import entry_points

    (entry,) = entry_points(group="jupyterhub.authenticators").select(name="clerk")
    assert entry.load() is ClerkAuthenticator


def test_the_hub_user_name_is_the_clerk_user_id_with_case_kept(loop, instance, authenticator):
    model = sign_in(loop, instance, authenticator, ADA)
    assert model["name"] == ADA
    assert authenticator.normalize_username("user_2aDemoAdaLovelace") != "user_2ademoadalovelace"
    assert not authenticator.validate_username("ada")  # only Clerk ids name Hub users


def test_memberships_become_groups_and_admins_get_their_organizations_role(
    loop, instance, authenticator
):
    model = sign_in(loop, instance, authenticator, ADA)
    assert model["groups"] == sorted([ENGINES, PARTNERS])
    roles = {role["name"] for role in model["roles"]}
    assert admin_role_name(ENGINES) in roles  # org:admin there
    assert admin_role_name(PARTNERS) not in roles  # org:member there
    assert "user" in roles
    state = model["auth_state"]
    assert state["session_id"].startswith("sess_")
    assert {m["org"]: m["role"] for m in state["memberships"]} == {
        ENGINES: "org:admin",
        PARTNERS: "org:member",
    }


@pytest.mark.parametrize("end", ["revoke_session", "end_session", "remove_session"])
def test_refresh_sends_the_person_back_to_sign_in_once_the_session_is_over(
    loop, instance, authenticator, end: str
):
    model = sign_in(loop, instance, authenticator, VERA)
    user = HubUser(model)
    assert loop.run_until_complete(authenticator.refresh_user(user)) not in (False, None)
    getattr(instance, end)(model["auth_state"]["session_id"])
    authenticator.sessions.forget(model["auth_state"]["session_id"])  # as the webhook does
    assert loop.run_until_complete(authenticator.refresh_user(user)) is False


def test_a_token_of_an_ended_session_does_not_sign_in(loop, instance, authenticator):
    session = instance.create_session(ADA)
    token = instance.session_token(session.id)
    instance.revoke_session(session.id)
    model = loop.run_until_complete(
        authenticator.get_authenticated_user(SimpleNamespace(), {"session_token": token})
    )
    assert model is None


def test_a_forged_or_foreign_token_does_not_sign_in(loop, instance, authenticator):
    session = instance.create_session(ADA)
    for token in [
        instance.session_token(session.id, azp="http://evil.example"),
        instance.session_token(session.id, lifetime=-60),
        "not-a-token",
    ]:
        model = loop.run_until_complete(
            authenticator.get_authenticated_user(SimpleNamespace(), {"session_token": token})
        )
        assert model is None


def test_concurrent_refreshes_ask_clerk_once_per_person_per_cache_lifetime(
    loop, instance, authenticator
):
    people = [ADA, VERA]
    users = [HubUser(sign_in(loop, instance, authenticator, p)) for p in people]

    async def refresh_all() -> list[Any]:
        return await asyncio.gather(*(authenticator.refresh_user(users[i % 2]) for i in range(200)))

    results = loop.run_until_complete(refresh_all())
    assert all(result not in (False, None) for result in results)
    # Sign-in and 200 refreshes together: the Backend API saw one session lookup and one
    # membership lookup per person.
    assert instance.faults.calls_to(r"^/v1/sessions/sess_") == len(people)
    assert instance.faults.calls_to(r"/organization_memberships") == len(people)


@pytest.mark.parametrize(
    ("trait", "value", "named"),
    [
        ("authorized_parties", ["not an origin"], "authorized_parties"),
        ("backend_api_budget_share", 2.0, "backend_api_budget_share"),
        ("secret_key", "", "secret_key"),
    ],
)
def test_configuration_errors_name_the_authenticators_own_traits(
    instance: DevInstance, monkeypatch: pytest.MonkeyPatch, trait: str, value: Any, named: str
) -> None:
    """The Hub is configured as c.ClerkAuthenticator.*: errors used to name
    c.ClerkIdentityProvider.*, a section the operator never set."""
    monkeypatch.setenv("JUPYTERHUB_CRYPT_KEY", "a" * 64)
    monkeypatch.delenv("CLERK_SECRET_KEY", raising=False)
    config = hub_config(instance)
    config.ClerkAuthenticator[trait] = value
    with pytest.raises(ClerkConfigError) as refused:
        ClerkAuthenticator(config=config)
    assert f"c.ClerkAuthenticator.{named}" in str(refused.value)
    assert "ClerkIdentityProvider" not in str(refused.value)
