"""KubeSpawner pod manifests for (person, organization) pairs, built without a cluster and
validated against Kubernetes' own schema (kubernetes-validate, strict)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import kubernetes_validate
import kubespawner.spawner
import pytest
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider
from kubernetes_asyncio.client import ApiClient
from kubespawner import KubeSpawner
from traitlets.config.loader import KVArgParseConfigLoader

from jupyter_clerk.clerk_api.models import Membership
from jupyter_clerk.hub.names import server_name
from jupyter_clerk.hub.server_env import role_actions_from_environment
from jupyter_clerk.hub.spawn import LABEL_PREFIX, prepare_spawner
from jupyter_clerk.workspaces.authorizer import ClerkAuthorizer
from tests.hub.conftest import ADA, ENGINES, GRACE, LINUS, PARTNERS, VERA

KUBERNETES_VERSION = "1.31"
SECRET = "sk_test_NeverInAPodxxxxxxxxxxxxxxxxxxxxxxxxxx"
WEBHOOK_SECRET = "whsec_bmV2ZXIgaW4gYSBwb2Q="

MEMBERSHIPS = {
    ADA: {ENGINES: "org:admin", PARTNERS: "org:member"},
    VERA: {ENGINES: "org:viewer"},
    LINUS: {PARTNERS: "org:member"},
    GRACE: {ENGINES: "org:analyst"},
}
# Their memberships carry no org:jupyter:* permission: the role mapping alone decides.
ROLE_ONLY = {LINUS, GRACE}
PERMISSIONS = {
    "org:admin": {"org:jupyter:read", "org:jupyter:write", "org:jupyter:execute"},
    "org:member": {"org:jupyter:read", "org:jupyter:write", "org:jupyter:execute"},
    "org:viewer": {"org:jupyter:read"},
}
# An operator's own mapping (c.ClerkAuthenticator.role_actions): the reverse of the default
# for these two roles, so a spawner that read the default would get both mounts wrong.
CUSTOM_ROLE_ACTIONS = {
    "org:admin": ["read", "write", "execute"],
    "org:member": ["read", "execute"],
    "org:analyst": ["read", "write", "execute"],
}


class Memberships:
    async def memberships(self, user_id: str) -> dict[str, Membership]:
        return {
            org: Membership(
                id=f"orgmem_{user_id[5:]}{org[4:]}",
                user_id=user_id,
                organization_id=org,
                organization_slug=None,
                organization_name=org,
                role=role,
                permissions=frozenset() if user_id in ROLE_ONLY else frozenset(PERMISSIONS[role]),
            )
            for org, role in MEMBERSHIPS.get(user_id, {}).items()
        }


AUTHENTICATOR = SimpleNamespace(
    memberships=Memberships(),
    personal_workspaces=True,
    kube_mount_path="/home/jovyan/work",
    role_actions=ClerkAuthorizer.class_traits()["role_actions"].default(),
    server_token_cache_seconds=45,
)


def spawner_for(user_id: str, org: str | None) -> KubeSpawner:
    user = SimpleNamespace(name=user_id, id=7, url=f"/user/{user_id}/", escaped_name=user_id)
    # The Hub's record of the server (only its name is read).
    orm_spawner = SimpleNamespace(name=server_name(org) if org else "", server=None)
    spawner = KubeSpawner(
        _mock=True, user=user, orm_spawner=orm_spawner, user_options={"org": org} if org else {}
    )
    spawner.api_token = "hub-token-for-this-server"  # the Hub's own token, not Clerk's
    # An operator's mistake that must not leak Clerk's secrets into the pod.
    spawner.env_keep = [*spawner.env_keep, "CLERK_SECRET_KEY"]
    spawner.environment = {"CLERK_WEBHOOK_SIGNING_SECRET": WEBHOOK_SECRET}
    return spawner


def manifest(
    user_id: str, org: str | None, *, prepare: bool = True, authenticator: Any = AUTHENTICATOR
) -> dict[str, Any]:
    return asyncio.run(_manifest(user_id, org, prepare=prepare, authenticator=authenticator))


async def _manifest(
    user_id: str, org: str | None, *, prepare: bool, authenticator: Any
) -> dict[str, Any]:
    spawner = spawner_for(user_id, org)  # KubeSpawner needs a running loop to be built
    if prepare:
        await prepare_spawner(authenticator, spawner.user, spawner)
    pod = await spawner.get_pod_manifest()
    data = ApiClient().sanitize_for_serialization(pod)
    kubernetes_validate.validate(data, KUBERNETES_VERSION, strict=True)
    return data


def mounts(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return pod["spec"]["containers"][0]["volumeMounts"]


@pytest.fixture(autouse=True)
def hub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLERK_SECRET_KEY", SECRET)
    # KubeSpawner reads a cluster's client configuration when it is built; there is none
    # here, and building a manifest never talks to one.
    monkeypatch.setattr(kubespawner.spawner, "load_config", lambda **_: None)


@pytest.mark.parametrize(
    ("user_id", "org", "writable"),
    [(ADA, ENGINES, True), (ADA, PARTNERS, True), (VERA, ENGINES, False), (ADA, None, True)],
)
def test_each_workspace_mounts_its_own_volume_read_only_without_write(
    user_id: str, org: str | None, writable: bool
) -> None:
    pod = manifest(user_id, org)
    workspace_mounts = [m for m in mounts(pod) if m["name"].startswith("clerk-")]
    assert len(workspace_mounts) == 1
    mount = workspace_mounts[0]
    assert mount["mountPath"] == "/home/jovyan/work"
    assert mount.get("readOnly", False) is (not writable)
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims[mount["name"]] == mount["name"]
    assert mount["name"].startswith("clerk-org-" if org else "clerk-user-")


def workspace_mount(pod: dict[str, Any]) -> dict[str, Any]:
    (mount,) = (m for m in mounts(pod) if m["name"].startswith("clerk-"))
    return mount


def environment(pod: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in pod["spec"]["containers"][0]["env"]}


def test_the_configured_role_mapping_decides_read_only_mounts_not_the_default() -> None:
    """Before, the spawner read the trait's `default_value` (traitlets' Undefined for a Dict):
    a member whose role has no org:jupyter:* permission could not spawn at all (checked: this
    test failed with AttributeError against that code), and the configured mapping was never
    read. Here the custom mapping is the reverse of the default for both roles."""
    custom = SimpleNamespace(**{**vars(AUTHENTICATOR), "role_actions": CUSTOM_ROLE_ACTIONS})
    assert workspace_mount(manifest(LINUS, PARTNERS, authenticator=custom))["readOnly"] is True
    assert workspace_mount(manifest(GRACE, ENGINES, authenticator=custom)).get("readOnly") is False
    # With the default mapping the same roles mount the other way round.
    assert workspace_mount(manifest(LINUS, PARTNERS)).get("readOnly") is False
    assert workspace_mount(manifest(GRACE, ENGINES))["readOnly"] is True


def test_the_single_user_server_receives_the_hubs_role_mapping() -> None:
    """The pod's authorizer and its mount decide from one mapping: the Hub's."""
    custom = SimpleNamespace(**{**vars(AUTHENTICATOR), "role_actions": CUSTOM_ROLE_ACTIONS})
    env = environment(manifest(LINUS, PARTNERS, authenticator=custom))
    assert role_actions_from_environment(env) == CUSTOM_ROLE_ACTIONS


def test_the_single_user_server_trusts_the_hubs_token_check_only_as_long_as_configured(
    monkeypatch,
) -> None:
    """JupyterHub's default is 300 s: a tab open on a member's server would outlive the
    Hub taking an admin's role or tokens away by up to five minutes."""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub-token-for-this-server")
    args = manifest(ADA, ENGINES)["spec"]["containers"][0]["args"]
    token_cache = [a for a in args if a.startswith("--HubOAuth.cache_max_age=")]
    assert token_cache == ["--HubOAuth.cache_max_age=45"]
    # The option is the one the single-user server's own identity provider reads.
    provider = JupyterHubIdentityProvider(config=KVArgParseConfigLoader(token_cache).load_config())
    assert provider.hub_auth.cache_max_age == 45


def test_two_organizations_of_one_person_get_different_volumes_and_one_org_shares_one() -> None:
    def claim(user_id: str, org: str | None) -> str:
        pod = manifest(user_id, org)
        return next(m["name"] for m in mounts(pod) if m["name"].startswith("clerk-"))

    assert len({claim(ADA, ENGINES), claim(ADA, PARTNERS), claim(ADA, None)}) == 3
    assert claim(ADA, ENGINES) == claim(VERA, ENGINES)


def test_pods_are_labelled_with_their_organization() -> None:
    labels = manifest(ADA, ENGINES)["metadata"]["labels"]
    assert labels[f"{LABEL_PREFIX}/organization"] == ENGINES
    assert labels[f"{LABEL_PREFIX}/workspace"] == server_name(ENGINES)
    assert labels[f"{LABEL_PREFIX}/workspace-kind"] == "organization"
    personal = manifest(ADA, None)["metadata"]["labels"]
    assert f"{LABEL_PREFIX}/organization" not in personal


def test_no_clerk_secret_reaches_a_pod() -> None:
    # Without prepare_spawner the operator's mistake does leak them: the check is real.
    leaky = json.dumps(manifest(ADA, ENGINES, prepare=False))
    assert SECRET in leaky and WEBHOOK_SECRET in leaky
    for user_id, org in [(ADA, ENGINES), (VERA, ENGINES), (ADA, None)]:
        pod = manifest(user_id, org)
        text = json.dumps(pod)
        assert SECRET not in text and WEBHOOK_SECRET not in text
        assert "sk_test_" not in text and "whsec_" not in text
        assert pod["spec"]["automountServiceAccountToken"] is False
        assert not any("secret" in volume for volume in pod["spec"]["volumes"])


def test_a_person_cannot_spawn_an_organization_they_do_not_belong_to() -> None:
    from tornado import web

    with pytest.raises(web.HTTPError) as refused:
        manifest(VERA, PARTNERS)
    assert refused.value.status_code == 403
