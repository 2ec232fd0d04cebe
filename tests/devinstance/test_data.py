import json

import pytest

from jupyter_clerk.devinstance.data import DataError, load_data, parse_data
from jupyter_clerk.devinstance.ids import is_clerk_id

from .helpers import ADA, ENGINES, GRACE, GUILD, LINUS, PARTNERS, VERA


def test_demo_directory_has_the_users_the_product_scenarios_need() -> None:
    data = load_data()
    roles = {
        user: {(m.organization_id, m.role) for m in data.memberships_of(user)}
        for user in (ADA, GRACE, LINUS, VERA)
    }
    assert roles[ADA] == {(ENGINES, "org:admin"), (PARTNERS, "org:member")}
    assert roles[GRACE] == {(PARTNERS, "org:admin"), (GUILD, "org:member")}
    assert roles[LINUS] == set()
    assert roles[VERA] == {(ENGINES, "org:viewer")}
    assert data.organizations[ENGINES].name == "Analytical Engines"
    assert data.organizations[PARTNERS].name == "Difference Partners"
    assert data.organizations[GUILD].name == "Compiler Guild"


def test_viewer_role_grants_read_only() -> None:
    data = load_data()
    assert data.membership(VERA, ENGINES).permissions == ("org:jupyter:read",)
    assert {"org:jupyter:read", "org:jupyter:write", "org:jupyter:execute"} <= set(
        data.membership(ADA, PARTNERS).permissions
    )


def test_demo_ids_have_clerk_shapes() -> None:
    data = load_data()
    assert all(is_clerk_id(u, "user") for u in data.users)
    assert all(is_clerk_id(o, "org") for o in data.organizations)
    assert all(is_clerk_id(m.id, "orgmem") for m in data.memberships)


def test_first_membership_in_file_order_is_adas_admin_org() -> None:
    assert load_data().memberships_of(ADA)[0].organization_id == ENGINES


def _raw() -> dict:
    return {
        "roles": {"org:member": {"name": "Member", "permissions": []}},
        "organizations": [{"id": "org_1", "name": "One", "slug": "one"}],
        "users": [
            {
                "id": "user_1",
                "email": "one@example.com",
                "memberships": [
                    {"id": "orgmem_1", "organization_id": "org_1", "role": "org:member"}
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("users", 0, "id"), "usr_1"),
        (("users", 0, "id"), "user_../x"),
        (("organizations", 0, "id"), "org_a-b"),
        (("users", 0, "memberships", 0, "organization_id"), "org_2"),
        (("users", 0, "memberships", 0, "role"), "org:owner"),
        (("users", 0, "memberships", 0, "id"), "org_1"),
    ],
)
def test_inconsistent_directory_data_is_refused_at_load(path: tuple, value: str) -> None:
    raw = _raw()
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DataError):
        parse_data(raw)


def test_custom_directory_file_loads(tmp_path) -> None:
    path = tmp_path / "dir.json"
    path.write_text(json.dumps(_raw()))
    assert list(load_data(path).users) == ["user_1"]


def test_malformed_directory_file_is_a_data_error(tmp_path) -> None:
    path = tmp_path / "dir.json"
    path.write_text(json.dumps({"users": []}))
    with pytest.raises(DataError):
        load_data(path)


def test_two_memberships_of_one_user_in_one_org_are_refused() -> None:
    raw = _raw()
    raw["users"][0]["memberships"].append(
        {"id": "orgmem_2", "organization_id": "org_1", "role": "org:member"}
    )
    with pytest.raises(DataError):
        parse_data(raw)
