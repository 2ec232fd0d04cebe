import pytest

from tests.devinstance.helpers import ADA, ENGINES
from tests.end_to_end.conftest import (  # noqa: F401  (the same signed-in tabs)
    clerk_allowed_origins,
    clerk_config,
    jupyter_origin,
    root,
    tab,
)


@pytest.fixture
def ada(tab):  # noqa: F811  (the `tab` fixture imported above)
    return tab(ADA, ENGINES)


@pytest.fixture
def home(root):  # noqa: F811
    """Ada's organization's directory, on disk."""
    directory = root / "orgs" / ENGINES
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def text(content: str) -> dict:
    """A contents-API model of a text file."""
    return {"type": "file", "format": "text", "content": content}
