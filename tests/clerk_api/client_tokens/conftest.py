"""A Jupyter server wired to the local instance with its secret key, as in production."""

from tests.end_to_end.conftest import (  # noqa: F401  (fixtures)
    clerk_allowed_origins,
    clerk_config,
    jupyter_origin,
)
