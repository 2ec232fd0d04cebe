"""Which workspace a request runs in, and where its files land, over real HTTP."""

from __future__ import annotations

import stat

import pytest

from tests.devinstance.helpers import ADA, ENGINES, GRACE, GUILD, LINUS, PARTNERS, VERA


async def test_token_organization_is_the_default_workspace(tab, root):
    ada = tab(ADA, ENGINES)
    code, model = await ada.put(
        "api/contents/hello.txt", {"type": "file", "format": "text", "content": "hi"}
    )
    assert code == 201
    assert (root / "orgs" / ENGINES / "hello.txt").read_text() == "hi"
    assert model["path"] == "hello.txt"


async def test_token_without_organization_works_in_the_personal_workspace(tab, root):
    linus = tab(LINUS)
    assert (
        await linus.put("api/contents/me.txt", {"type": "file", "format": "text", "content": "x"})
    )[0] == 201
    assert (root / "users" / LINUS / "me.txt").exists()


async def test_a_tab_can_name_another_organization_of_its_person(tab, root, clerk_instance):
    ada = tab(ADA, ENGINES, workspace=PARTNERS)
    code, _ = await ada.put(
        "api/contents/p.txt", {"type": "file", "format": "text", "content": "p"}
    )
    assert code == 201
    assert (root / "orgs" / PARTNERS / "p.txt").exists()
    assert not (root / "orgs" / ENGINES / "p.txt").exists()


async def test_a_non_member_gets_403_with_a_clear_message(tab):
    ada = tab(ADA, ENGINES, workspace=GUILD)
    code, body = await ada.get("api/contents")
    assert code == 403
    assert "not a member" in body["message"]


async def test_personal_workspace_can_be_asked_for_explicitly(tab, root):
    ada = tab(ADA, ENGINES, workspace="personal")
    assert (await ada.post("api/contents", {"type": "notebook"}))[0] == 201
    assert list((root / "users" / ADA).glob("*.ipynb"))


@pytest.mark.parametrize(
    "value", ["../orgs/x", "org_a/b", "org_", "ORG_abc", "user_2aDemoAdaLovelace", "personalx"]
)
async def test_malformed_workspace_names_are_refused(tab, value):
    assert (await tab(ADA, ENGINES, workspace=value).get("api/contents"))[0] == 400


async def test_two_workspace_headers_are_refused(tab, fetch, clerk_instance):
    ada = tab(ADA, ENGINES)
    response = await fetch(
        "api/contents",
        token=ada.token,
        headers={"X-Clerk-Workspace": f"{ENGINES},{PARTNERS}"},
    )
    assert response.code == 400


async def test_workspace_directories_are_owner_only_and_keyed_by_id(tab, root):
    await tab(GRACE, PARTNERS).get("api/contents")
    mode = stat.S_IMODE((root / "orgs" / PARTNERS).stat().st_mode)
    assert mode == 0o700
    assert not (root / "orgs" / "difference-partners").exists()


async def test_me_reports_the_current_workspace(tab):
    code, body = await tab(ADA, ENGINES, workspace=PARTNERS).get("api/me")
    assert code == 200
    assert body["identity"]["workspace"]["id"] == PARTNERS
    assert body["identity"]["workspace"]["role"] == "org:member"
    assert body["identity"]["organization"]["id"] == ENGINES


async def test_viewer_reads_but_cannot_write_or_run(tab, root):
    (root / "orgs" / ENGINES).mkdir(parents=True, exist_ok=True)
    (root / "orgs" / ENGINES / "shared.txt").write_text("data")
    vera = tab(VERA, ENGINES)
    code, model = await vera.get("api/contents/shared.txt")
    assert (code, model["content"]) == (200, "data")
    assert (
        await vera.put(
            "api/contents/shared.txt", {"type": "file", "format": "text", "content": "x"}
        )
    )[0] == 403
    assert (await vera.post("api/kernels"))[0] == 403
    assert (
        await vera.post(
            "api/sessions", {"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
        )
    )[0] == 403


async def test_server_shutdown_is_refused_to_members(tab):
    assert (await tab(ADA, ENGINES).post("api/shutdown"))[0] == 403


async def test_server_wide_event_stream_is_refused_to_members(tab, fetch):
    response = await fetch("api/events", method="POST", token=tab(ADA, ENGINES).token, body={})
    assert response.code == 403


class TestPersonalWorkspacesOff:
    @pytest.fixture
    def clerk_config(self, clerk_config):
        return {**clerk_config, "personal_workspaces": False}

    async def test_person_without_organization_is_refused(self, tab):
        code, body = await tab(LINUS).get("api/contents")
        assert code == 403
        assert "Personal workspaces are turned off" in body["message"]

    async def test_explicit_personal_is_refused(self, tab):
        assert (await tab(ADA, ENGINES, workspace="personal").get("api/contents"))[0] == 403


async def test_workspace_list_shows_every_organization_of_the_person(tab):
    code, body = await tab(ADA, ENGINES, workspace=PARTNERS).get("clerk/api/workspaces")
    assert code == 200
    assert [(o["id"], o["role"]) for o in body["organizations"]] == [
        (ENGINES, "org:admin"),
        (PARTNERS, "org:member"),
    ]
    assert body["current"] == {"kind": "organization", "id": PARTNERS}
    assert body["personal_enabled"] is True


async def test_workspace_list_needs_a_signed_in_person(fetch):
    assert (await fetch("clerk/api/workspaces")).code == 401


async def test_backend_outage_fails_other_organizations_closed_but_not_the_tokens(
    tab, clerk_instance
):
    ada_home, ada_away = tab(ADA, ENGINES), tab(ADA, ENGINES, workspace=PARTNERS)
    clerk_instance.faults.fail(503, times=50, path=r"/organization_memberships")
    assert (await ada_home.get("api/contents"))[0] == 200
    code, body = await ada_away.get("api/contents")
    assert code == 503
    assert "membership" in body["message"]
    assert clerk_instance.secret_key not in str(body)


async def test_rate_limited_membership_check_says_when_to_retry(tab, clerk_instance, fetch):
    away = tab(ADA, ENGINES, workspace=PARTNERS)
    assert (await tab(ADA, ENGINES).get("api/contents"))[0] == 200  # keys loaded
    clerk_instance.faults.rate_limit(retry_after=30, times=5, path=r"/organization_memberships")
    response = await fetch(
        "api/contents", token=away.token, headers={"X-Clerk-Workspace": PARTNERS}
    )
    assert response.code == 503
    assert int(response.headers["Retry-After"]) >= 29


async def test_files_are_not_writable_for_a_viewer_and_her_refusal_says_why(tab, root):
    (root / "orgs" / ENGINES).mkdir(parents=True, exist_ok=True)
    (root / "orgs" / ENGINES / "shared.txt").write_text("data")
    vera, ada = tab(VERA, ENGINES), tab(ADA, ENGINES)
    assert (await vera.get("api/contents/shared.txt"))[1]["writable"] is False
    listing = (await vera.get("api/contents"))[1]
    assert listing["writable"] is False
    assert all(item["writable"] is False for item in listing["content"])
    assert (await ada.get("api/contents/shared.txt"))[1]["writable"] is True
    body = {"type": "file", "format": "text", "content": "x"}
    code, refusal = await vera.put("api/contents/shared.txt", body)
    assert code == 403
    assert refusal["message"].startswith("You are a viewer in the organization analytical-eng")
    assert "Traceback" not in str(refusal)
