"""Person A against person B, organization X against organization Y, over real HTTP and
real kernel WebSockets: nothing of one is reachable, or even visible, from the other."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.devinstance.helpers import ADA, ENGINES, GRACE, PARTNERS
from tests.identity.test_websockets import run_cell, ws_base

SECRET = "the-partners-secret"


@pytest.fixture
def partners_secret(root):
    directory = root / "orgs" / PARTNERS
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "secret.txt").write_text(SECRET)
    sibling = root / "orgs" / f"{ENGINES}X"
    sibling.mkdir(parents=True, exist_ok=True)
    (sibling / "secret.txt").write_text(SECRET)
    return directory / "secret.txt"


TRAVERSALS = [
    "../{p}/secret.txt",
    "../../orgs/{p}/secret.txt",
    "%2e%2e/{p}/secret.txt",
    "%2e%2e%2f{p}%2fsecret.txt",
    "%252e%252e%252f{p}%252fsecret.txt",
    "..%5c{p}%5csecret.txt",
    "%2Fetc%2Fpasswd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "../{e}X/secret.txt",
    "%2e%2e/{e}X/secret.txt",
]


@pytest.mark.parametrize("form", TRAVERSALS)
@pytest.mark.parametrize(
    "prefix", ["api/contents/", "files/", "api/contents/x/checkpoints/", "nbconvert/html/", "view/"]
)
async def test_no_traversal_form_escapes_the_workspace(tab, partners_secret, form, prefix):
    ada = tab(ADA, ENGINES)
    await ada.get("api/contents")  # the workspace directory exists
    code, body = await ada.get(prefix + form.format(p=PARTNERS, e=ENGINES))
    assert code in (400, 403, 404, 405), code
    assert SECRET not in str(body)
    assert "root:" not in str(body)


async def test_symlink_pointing_out_is_not_followed(tab, root, partners_secret):
    ada = tab(ADA, ENGINES)
    await ada.get("api/contents")
    os.symlink(partners_secret.parent, root / "orgs" / ENGINES / "partners")
    os.symlink(partners_secret, root / "orgs" / ENGINES / "secret-link.txt")
    for path in (
        "api/contents/partners/secret.txt",
        "api/contents/secret-link.txt",
        "files/secret-link.txt",
        "api/contents/partners",
    ):
        code, body = await ada.get(path)
        assert code == 404, path
        assert SECRET not in str(body)
    code, listing = await ada.get("api/contents")
    assert code == 200
    assert {item["name"] for item in listing["content"]}.isdisjoint({"partners", "secret-link.txt"})


async def test_files_and_downloads_serve_only_the_workspace(tab, root):
    ada = tab(ADA, ENGINES)
    await ada.put("api/contents/a.txt", {"type": "file", "format": "text", "content": "engines"})
    grace = tab(GRACE, PARTNERS)
    await grace.put("api/contents/a.txt", {"type": "file", "format": "text", "content": "partners"})
    assert (await ada.get("files/a.txt"))[1] == b"engines"
    assert (await grace.get("files/a.txt"))[1] == b"partners"
    assert (await ada.get("api/contents/a.txt"))[1]["content"] == "engines"


async def test_checkpoints_stay_in_the_workspace(tab, root):
    ada = tab(ADA, ENGINES)
    await ada.put("api/contents/c.txt", {"type": "file", "format": "text", "content": "v1"})
    code, checkpoint = await ada.post("api/contents/c.txt/checkpoints")
    assert code == 201
    await ada.put("api/contents/c.txt", {"type": "file", "format": "text", "content": "v2"})
    assert (await ada.post(f"api/contents/c.txt/checkpoints/{checkpoint['id']}"))[0] == 204
    assert (root / "orgs" / ENGINES / "c.txt").read_text() == "v1"
    assert (root / "orgs" / ENGINES / ".ipynb_checkpoints").is_dir()
    grace = tab(GRACE, PARTNERS)
    assert (await grace.get("api/contents/c.txt/checkpoints"))[1] == []


# --- kernels and sessions ---------------------------------------------------------------


async def start_kernel(tab_) -> str:
    code, model = await tab_.post("api/kernels")
    assert code == 201, model
    return model["id"]


async def test_kernels_are_invisible_to_other_people(tab):
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    kernel = await start_kernel(ada)
    assert [k["id"] for k in (await ada.get("api/kernels"))[1]] == [kernel]
    assert (await grace.get("api/kernels"))[1] == []
    for method, path in [
        ("GET", f"api/kernels/{kernel}"),
        ("DELETE", f"api/kernels/{kernel}"),
        ("POST", f"api/kernels/{kernel}/interrupt"),
        ("POST", f"api/kernels/{kernel}/restart"),
    ]:
        code, _ = await grace.call(method, path, body={} if method == "POST" else None)
        assert code == 404, (method, path)
    assert (await ada.get(f"api/kernels/{kernel}"))[0] == 200


async def test_client_chosen_kernel_id_cannot_take_over_a_kernel(tab):
    ada, grace = tab(ADA, PARTNERS), tab(GRACE, PARTNERS)
    kernel = await start_kernel(ada)
    assert (await grace.post("api/kernels", {"kernel_id": kernel}))[0] == 404
    session = {"path": "x.ipynb", "type": "notebook", "kernel": {"id": kernel}}
    assert (await grace.post("api/sessions", session))[0] == 404
    assert (await grace.get("api/sessions"))[1] == []


async def test_kernel_websocket_of_another_person_is_refused(tab, server_url):
    ada, grace = tab(ADA, PARTNERS), tab(GRACE, PARTNERS)
    kernel = await start_kernel(ada)
    url = f"{ws_base(server_url)}api/kernels/{kernel}/channels?token={grace.token}"
    with pytest.raises(InvalidStatus) as info:
        async with connect(url):
            pass
    assert info.value.response.status_code == 404


async def test_the_same_workspace_in_another_tab_of_the_same_person_reaches_the_kernel(
    tab, server_url
):
    kernel = await start_kernel(tab(ADA, ENGINES))
    again = tab(ADA, ENGINES)
    url = f"{ws_base(server_url)}api/kernels/{kernel}/channels?token={again.token}"
    async with connect(url) as ws:
        assert await run_cell(ws, "1+1") == "2"


async def test_a_kernel_is_owned_per_workspace_too(tab):
    kernel = await start_kernel(tab(ADA, ENGINES))
    assert (await tab(ADA, ENGINES, workspace=PARTNERS).get(f"api/kernels/{kernel}"))[0] == 404


async def test_kernels_start_inside_the_workspace_without_secrets(
    tab, server_url, root, monkeypatch
):
    monkeypatch.setenv("CLERK_SECRET_KEY", "sk_test_plantedInTheServer")
    ada = tab(ADA, ENGINES)
    kernel = await start_kernel(ada)
    url = f"{ws_base(server_url)}api/kernels/{kernel}/channels?token={ada.token}"
    async with connect(url) as ws:
        cwd = await run_cell(ws, "import os; os.getcwd()")
        leaked = await run_cell(ws, "sorted(k for k in os.environ if k.startswith('CLERK'))")
    assert cwd.strip("'") == str(root / "orgs" / ENGINES)
    assert leaked == "[]"


async def test_same_notebook_path_gives_two_people_two_sessions(tab):
    ada, grace = tab(ADA, ENGINES, workspace=PARTNERS), tab(GRACE, PARTNERS)
    body = {"path": "shared.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    code_a, session_a = await ada.post("api/sessions", body)
    code_g, session_g = await grace.post("api/sessions", body)
    assert (code_a, code_g) == (201, 201)
    assert session_a["id"] != session_g["id"]
    assert session_a["kernel"]["id"] != session_g["kernel"]["id"]
    assert session_a["path"] == session_g["path"] == "shared.ipynb"
    assert [s["id"] for s in (await grace.get("api/sessions"))[1]] == [session_g["id"]]
    assert (await grace.get(f"api/sessions/{session_a['id']}"))[0] == 404
    assert (await grace.delete(f"api/sessions/{session_a['id']}"))[0] == 404
    assert (
        await grace.patch(
            f"api/sessions/{session_g['id']}", {"kernel": {"id": session_a["kernel"]["id"]}}
        )
    )[0] == 404
    assert (await ada.get(f"api/sessions/{session_a['id']}"))[0] == 200


async def test_organization_admin_lists_and_stops_members_kernels(tab):
    member = tab(ADA, ENGINES, workspace=PARTNERS)
    admin = tab(GRACE, PARTNERS)
    kernel = await start_kernel(member)
    assert kernel in [k["id"] for k in (await admin.get("api/kernels"))[1]]
    assert (await admin.post(f"api/kernels/{kernel}/interrupt"))[0] == 404
    assert (await admin.delete(f"api/kernels/{kernel}"))[0] == 204
    assert (await member.get(f"api/kernels/{kernel}"))[0] == 404


async def test_members_do_not_see_their_admins_kernels(tab):
    admin_kernel = await start_kernel(tab(GRACE, PARTNERS))
    member = tab(ADA, ENGINES, workspace=PARTNERS)
    assert admin_kernel not in [k["id"] for k in (await member.get("api/kernels"))[1]]
    assert (await member.delete(f"api/kernels/{admin_kernel}"))[0] == 404


# --- seed 000: one person, several organizations, one per tab ----------------------------


async def test_cookie_only_websocket_reaches_the_tabs_organization(
    clerk_instance, tab, server_url, jupyter_origin
):
    """The token is active in Engines; the tab works in Partners, with no redirect."""
    in_partners = tab(ADA, ENGINES, workspace=PARTNERS)
    kernel = await start_kernel(in_partners)
    session = clerk_instance.create_session(ADA, ENGINES)
    cookie = clerk_instance.session_token(session.id)
    url = f"{ws_base(server_url)}api/kernels/{kernel}/channels?workspace={PARTNERS}"
    async with connect(
        url, origin=jupyter_origin, additional_headers={"Cookie": f"__session={cookie}"}
    ) as ws:
        assert await run_cell(ws, "6*7") == "42"
    with pytest.raises(InvalidStatus) as info:
        async with connect(
            f"{ws_base(server_url)}api/kernels/{kernel}/channels?workspace={GUILD_ID}",
            origin=jupyter_origin,
            additional_headers={"Cookie": f"__session={cookie}"},
        ):
            pass
    assert info.value.response.status_code == 403


GUILD_ID = "org_2aDemoCompilerGuild"


async def test_two_tabs_in_two_organizations_never_see_each_other(tab):
    tab_a = tab(ADA, ENGINES)
    tab_b = tab(ADA, ENGINES, workspace=PARTNERS)
    for n in range(3):
        await tab_a.put(
            f"api/contents/a{n}.txt", {"type": "file", "format": "text", "content": "A"}
        )
        await tab_b.put(
            f"api/contents/b{n}.txt", {"type": "file", "format": "text", "content": "B"}
        )
        names_a = {i["name"] for i in (await tab_a.get("api/contents"))[1]["content"]}
        names_b = {i["name"] for i in (await tab_b.get("api/contents"))[1]["content"]}
        assert all(name.startswith("a") for name in names_a)
        assert all(name.startswith("b") for name in names_b)
    kernel_a, kernel_b = await start_kernel(tab_a), await start_kernel(tab_b)
    assert [k["id"] for k in (await tab_a.get("api/kernels"))[1]] == [kernel_a]
    assert [k["id"] for k in (await tab_b.get("api/kernels"))[1]] == [kernel_b]


async def test_interleaved_concurrent_requests_never_cross(tab):
    """Many requests of two people in two workspaces in flight at once."""
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    await ada.put(
        "api/contents/mine.txt", {"type": "file", "format": "text", "content": "ADA-DATA"}
    )
    await grace.put(
        "api/contents/mine.txt", {"type": "file", "format": "text", "content": "GRACE-DATA"}
    )

    async def read(who, expected, forbidden):
        code, model = await who.get("api/contents/mine.txt")
        assert code == 200
        assert model["content"] == expected and forbidden not in json.dumps(model)
        code, listing = await who.get("api/contents")
        assert forbidden not in json.dumps(listing)

    await asyncio.gather(
        *(
            read(ada, "ADA-DATA", "GRACE-DATA") if n % 2 else read(grace, "GRACE-DATA", "ADA-DATA")
            for n in range(60)
        )
    )


async def test_checkpoint_folder_linked_to_another_workspace_is_refused(tab, root, partners_secret):
    """A kernel can plant `.ipynb_checkpoints -> ../org_B/.ipynb_checkpoints`."""
    partners_checkpoints = partners_secret.parent / ".ipynb_checkpoints"
    partners_checkpoints.mkdir()
    (partners_checkpoints / "notes-checkpoint.txt").write_text(SECRET)
    ada = tab(ADA, ENGINES)
    await ada.put("api/contents/notes.txt", {"type": "file", "format": "text", "content": "mine"})
    os.symlink(partners_checkpoints, root / "orgs" / ENGINES / ".ipynb_checkpoints")
    code, listing = await ada.get("api/contents/notes.txt/checkpoints")
    assert code == 404 and SECRET not in str(listing)
    assert (await ada.post("api/contents/notes.txt/checkpoints/checkpoint"))[0] == 404
    assert (await ada.delete("api/contents/notes.txt/checkpoints/checkpoint"))[0] == 404
    assert (await ada.get("api/contents/notes.txt"))[1]["content"] == "mine"
    assert (partners_checkpoints / "notes-checkpoint.txt").read_text() == SECRET


async def test_copying_a_folder_never_copies_through_a_link(tab, root, partners_secret):
    ada = tab(ADA, ENGINES)
    await ada.post("api/contents", {"type": "directory"})
    folder = root / "orgs" / ENGINES / "Untitled Folder"
    os.symlink(partners_secret.parent, folder / "leak")
    os.symlink("/proc/self/environ", folder / "environ")
    code, body = await ada.post("api/contents", {"copy_from": "Untitled Folder"})
    assert code == 400
    assert not list((root / "orgs" / ENGINES).glob("Untitled Folder-Copy*"))
    assert SECRET not in str(body)


async def test_a_kernel_id_cannot_be_chosen_so_a_starting_kernel_cannot_be_claimed(tab):
    # Ids are the server's to choose: a client naming a new one gets 404 like anyone naming
    # someone else's, so nobody can race its owner for a kernel that is still starting.
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    kernel_id = "11111111-2222-3333-4444-555555555555"
    ada_start = asyncio.ensure_future(ada.post("api/kernels", {"kernel_id": kernel_id}))
    grace_code, _ = await grace.post("api/kernels", {"kernel_id": kernel_id})
    ada_code, _ = await ada_start
    assert (ada_code, grace_code) == (404, 404)
    assert (await ada.get("api/kernels"))[1] == []
    assert (await grace.get(f"api/kernels/{kernel_id}"))[0] == 404
