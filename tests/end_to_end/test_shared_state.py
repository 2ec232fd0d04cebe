"""Server-wide state seen from two workspaces: nothing one tenant does is visible to, or
trusted by, another; a foreign id answers exactly like a missing one; bad input is a 4xx.

How each was shown to catch its attack: every test here was first run against the server
without the protection and failed there (all 30 of the first version did): the stock notary
(drop `WorkspaceTrust` from WorkspaceContentsManager's bases), Jupyter's own resolvePath and
/metrics handlers (don't register `server_endpoints.ENDPOINTS` in app.py; the sandboxed
kernel's resolvePath leaked too), Jupyter's own session and kernel-id answers, numbered and
choosable terminal names, and no `ClearFileErrors` or request checks (500s)."""

from __future__ import annotations

import uuid

import pytest

from tests.devinstance.helpers import ADA, ENGINES, GRACE, LINUS, PARTNERS


def notebook(trusted: bool | None) -> dict:
    metadata = {} if trusted is None else {"trusted": trusted}
    cell = {
        "cell_type": "code",
        "id": "c1",
        "execution_count": 1,
        "metadata": metadata,
        "source": "show()",
        "outputs": [
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {"text/html": "<script>steal(document.cookie)</script>"},
            }
        ],
    }
    return {
        "type": "notebook",
        "format": "json",
        "content": {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
    }


def trusted_cells(model: dict) -> list:
    return [cell["metadata"].get("trusted") for cell in model["content"]["cells"]]


async def test_a_notebook_signed_in_one_workspace_is_not_trusted_in_another(tab):
    grace, ada = tab(GRACE, PARTNERS), tab(ADA, ENGINES)
    assert (await grace.put("api/contents/plot.ipynb", notebook(trusted=True)))[0] == 201
    assert trusted_cells((await grace.get("api/contents/plot.ipynb"))[1]) == [True]
    # The same file reaches another organization (uploaded by a member of both).
    assert (await ada.put("api/contents/plot.ipynb", notebook(trusted=None)))[0] == 201
    assert trusted_cells((await ada.get("api/contents/plot.ipynb"))[1]) == [False]


async def test_trusting_a_notebook_still_works_inside_its_workspace(tab):
    ada = tab(ADA, ENGINES)
    await ada.put("api/contents/plot.ipynb", notebook(trusted=None))
    assert trusted_cells((await ada.get("api/contents/plot.ipynb"))[1]) == [False]
    assert (await ada.post("api/contents/plot.ipynb/trust"))[0] == 201
    assert trusted_cells((await ada.get("api/contents/plot.ipynb"))[1]) == [True]


async def test_resolve_path_does_not_confirm_files_of_another_workspace(tab, root):
    await resolve_path_attack(tab, root)


class TestWithTheSandbox:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {**jp_server_config, "ClerkApp": {"sandbox_kernels": True}}

    async def test_resolve_path_does_not_confirm_files_of_another_workspace(self, tab, root):
        # The kernel is confined, but Jupyter answers resolvePath on the host.
        await resolve_path_attack(tab, root)


async def resolve_path_attack(tab, root):
    grace, ada = tab(GRACE, PARTNERS), tab(ADA, ENGINES)
    await grace.put("api/contents/secret.txt", {"type": "file", "format": "text", "content": "x"})
    code, kernel = await ada.post("api/kernels")
    assert code == 201
    secret = root / "orgs" / PARTNERS / "secret.txt"
    assert secret.exists()
    answers = set()
    for path in (
        f"../{PARTNERS}/secret.txt",
        f"../{PARTNERS}/missing.txt",
        str(secret),
        str(secret.with_name("missing.txt")),
        "/etc/passwd",
        "/etc/missing",
    ):
        for query in (f"path={path}", f"path={path}&kernel={kernel['id']}"):
            code, body = await ada.get(f"api/resolvePath?{query}")
            assert code == 200, body
            assert body["resolved"] == [], (path, body)
            answers.add(str(body))
    assert len(answers) == 1
    await ada.delete(f"api/kernels/{kernel['id']}")


async def test_resolve_path_still_finds_the_callers_own_files(tab):
    ada = tab(ADA, ENGINES)
    await ada.put("api/contents/mine.txt", {"type": "file", "format": "text", "content": "x"})
    code, kernel = await ada.post("api/kernels")
    code, body = await ada.get(f"api/resolvePath?path=mine.txt&kernel={kernel['id']}")
    assert code == 200
    assert {(r["scope"], r["path"]) for r in body["resolved"]} == {
        ("server", "mine.txt"),
        ("kernel", "mine.txt"),
    }
    code, body = await tab(GRACE, PARTNERS).get(f"api/resolvePath?path=x&kernel={kernel['id']}")
    assert body["resolved"] == []
    assert body["unresolved"] == [{"scope": "kernel", "reason": "Kernel could not be found."}]
    await ada.delete(f"api/kernels/{kernel['id']}")


class TestMetrics:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {**jp_server_config, "ClerkAuthorizer": {"server_admins": [LINUS]}}

    async def test_metrics_are_for_server_admins_only(self, tab, fetch):
        assert (await tab(ADA, ENGINES).get("metrics"))[0] == 403
        assert (await fetch("metrics")).code in (401, 403)
        code, body = await tab(LINUS).get("metrics")
        assert code == 200
        assert b"kernel" in body


async def test_status_does_not_tell_when_others_use_the_server(tab):
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    code, before = await ada.get("api/status")
    assert code == 200
    kernel = (await grace.post("api/kernels"))[1]["id"]
    await grace.get("api/contents")
    code, after = await ada.get("api/status")
    assert after == before
    assert after["kernels"] == 0
    assert (await grace.get("api/status"))[1]["kernels"] == 1
    await grace.delete(f"api/kernels/{kernel}")


def same_answer(a: tuple, b: tuple, a_id: str, b_id: str) -> None:
    assert a[0] == b[0]
    assert str(a[1]).replace(a_id, "ID") == str(b[1]).replace(b_id, "ID")


async def test_a_foreign_session_answers_exactly_like_a_missing_one(tab):
    ada, grace = tab(ADA, PARTNERS), tab(GRACE, PARTNERS)
    body = {"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    code, session = await ada.post("api/sessions", body)
    assert code == 201
    mine, missing = session["id"], str(uuid.uuid4())
    for method, extra in (("GET", None), ("PATCH", {"path": "b.ipynb"}), ("DELETE", None)):
        foreign = await grace.call(method, f"api/sessions/{mine}", body=extra)
        absent = await grace.call(method, f"api/sessions/{missing}", body=extra)
        assert foreign[0] == 404, (method, foreign)
        same_answer(foreign, absent, mine, missing)
    assert (await ada.delete(f"api/sessions/{mine}"))[0] == 204


async def test_a_chosen_kernel_id_answers_alike_whether_taken_or_free(tab):
    # Grace is the organization's admin, Ada a member: Ada may not see Grace's kernels.
    grace, ada = tab(GRACE, PARTNERS), tab(ADA, PARTNERS)
    taken, free = (await grace.post("api/kernels"))[1]["id"], str(uuid.uuid4())
    foreign = await ada.post("api/kernels", {"kernel_id": taken})
    absent = await ada.post("api/kernels", {"kernel_id": free})
    assert foreign[0] == 404
    same_answer(foreign, absent, taken, free)
    answers = [
        await ada.post("api/sessions", {"path": "x", "type": "notebook", "kernel": {"id": chosen}})
        for chosen in (taken, free)
    ]
    assert answers[0][0] == 404
    same_answer(answers[0], answers[1], taken, free)
    # Attaching a session to someone else's kernel afterwards reads as "No such kernel" too.
    code, model = await ada.post(
        "api/sessions", {"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    )
    assert code == 201
    foreign = await ada.patch(f"api/sessions/{model['id']}", {"kernel": {"id": taken}})
    absent = await ada.patch(f"api/sessions/{model['id']}", {"kernel": {"id": free}})
    assert foreign[0] == 400
    same_answer(foreign, absent, taken, free)
    await ada.delete(f"api/sessions/{model['id']}")
    # The owner may still name their own kernel.
    assert (await grace.post("api/kernels", {"kernel_id": taken}))[0] in (200, 201)
    await grace.delete(f"api/kernels/{taken}")


LONG = "n" * 900  # longer than a file name may be
LONGER = "n" * 2000  # longer than a session's path or name may be


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "api/contents/missing.ipynb/checkpoints", {}),
        ("POST", "api/contents/missing.ipynb/checkpoints/checkpoint", {}),
        ("DELETE", "api/contents/missing.ipynb/checkpoints/checkpoint", None),
        ("POST", "api/kernels", {"kernel_id": "not-a-uuid"}),
        ("POST", "api/kernels", {"kernel_id": "../../etc"}),
        ("POST", "api/kernels", {"kernel_id": LONG}),
        ("POST", "api/kernels", {"name": LONG}),
        ("POST", "api/kernels", {"path": "../../.."}),
        ("POST", "api/sessions", {"path": None, "type": "notebook", "kernel": {}}),
        ("POST", "api/sessions", {"path": "../../x.ipynb", "type": "notebook", "kernel": {}}),
        ("POST", "api/sessions", {"path": "/etc/x.ipynb", "type": "notebook", "kernel": {}}),
        ("POST", "api/sessions", {"path": LONGER, "type": "notebook", "kernel": {}}),
        ("POST", "api/sessions", {"path": "a", "name": LONGER, "type": "notebook", "kernel": {}}),
        ("POST", "api/sessions", {"path": "a", "type": "notebook", "kernel": {"id": "x"}}),
        ("POST", "api/sessions", {"path": "a", "type": "notebook", "kernel": {"name": LONG}}),
        ("POST", "api/sessions", {"path": "a", "type": "notebook", "kernel": None}),
        ("POST", "api/sessions", {"path": "a", "type": "notebook", "kernel": {"name": ["x"]}}),
        ("POST", "api/sessions", {"path": "a", "type": ["notebook"], "kernel": {}}),
        ("POST", "api/sessions", {"path": 5, "type": "notebook", "kernel": {}}),
        ("POST", "api/sessions", []),
        ("PUT", f"api/contents/{LONG}.txt", {"type": "file", "format": "text", "content": ""}),
        ("GET", f"api/contents/{LONG}", None),
        ("GET", "api/resolvePath?path=a&kernel=not-a-uuid", None),
        ("GET", "api/resolvePath", None),
        ("GET", f"api/kernelspecs/{LONG}", None),
        ("GET", f"kernelspecs/{LONG}/logo-64x64.png", None),
        ("GET", f"api/sessions/{LONG}", None),
        ("DELETE", f"api/sessions/{LONG}", None),
        ("PATCH", f"api/sessions/{LONG}", {"path": "a"}),
        ("PATCH", "api/contents/a.txt", {"path": f"{LONG}.txt"}),
        ("POST", "api/contents", {"copy_from": LONG}),
        ("PUT", "api/contents/x.ipynb", {"type": "notebook", "format": "json", "content": []}),
        ("GET", f"files/{LONG}", None),
        ("GET", f"view/{LONG}", None),
        ("GET", f"nbconvert/html/{LONG}", None),
        ("GET", "api/contents/a.txt?type=bogus", None),
        ("GET", "api/contents/a.txt?format=bogus", None),
        ("POST", "api/kernels", []),
        ("POST", "api/kernels", {"name": ["python3"]}),
        ("POST", f"api/contents/{LONG}/trust", {}),
    ],
)
async def test_bad_input_answers_a_clear_4xx(tab, method, path, body):
    ada = tab(ADA, ENGINES)
    await ada.get("api/contents")
    code, answer = await ada.call(method, path, body=body)
    assert 400 <= code < 500, (code, answer)
    assert "Traceback" not in str(answer)


async def test_bad_session_updates_answer_a_clear_4xx(tab):
    ada = tab(ADA, ENGINES)
    code, session = await ada.post(
        "api/sessions", {"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    )
    assert code == 201
    sid = session["id"]
    for change in (
        {"path": None},
        {"path": "../../../x"},
        {"path": LONGER},
        {"name": LONGER},
        {"kernel": {"id": "not-a-uuid"}},
        {"kernel": {"id": str(uuid.uuid4())}},
    ):
        code, answer = await ada.patch(f"api/sessions/{sid}", change)
        assert 400 <= code < 500, (change, code, answer)
    assert (await ada.delete(f"api/sessions/{sid}"))[0] == 204


class TestTerminals:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {**jp_server_config, "ClerkApp": {"terminals": True}}

    async def test_terminal_names_do_not_count_other_peoples_terminals(self, tab):
        ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
        ada_names = [(await ada.post("api/terminals"))[1]["name"] for _ in range(2)]
        grace_name = (await grace.post("api/terminals"))[1]["name"]
        assert grace_name not in ("1", "2", "3")
        assert len({*ada_names, grace_name}) == 3
        for name in ada_names:
            assert (await ada.delete(f"api/terminals/{name}"))[0] == 204
        assert (await grace.delete(f"api/terminals/{grace_name}"))[0] == 204

    async def test_a_foreign_terminal_answers_exactly_like_a_missing_one(self, tab):
        ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
        name, missing = (await ada.post("api/terminals"))[1]["name"], "0123456789abcdef"
        for method in ("GET", "DELETE"):
            foreign = await grace.call(method, f"api/terminals/{name}")
            absent = await grace.call(method, f"api/terminals/{missing}")
            assert foreign[0] == 404
            same_answer(foreign, absent, name, missing)
        # Choosing a name, taken or free, never reaches the holder's terminal.
        for chosen in (name, missing, LONG, ["not", "a", "name"]):
            code, model = await grace.post("api/terminals", {"name": chosen})
            assert code == 200
            assert model["name"] not in (name, missing)
            assert (await grace.delete(f"api/terminals/{model['name']}"))[0] == 204
        assert (await ada.delete(f"api/terminals/{name}"))[0] == 204
