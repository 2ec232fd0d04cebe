from tests.end_to_end.conftest import (  # noqa: F401  (the same signed-in tabs)
    clerk_allowed_origins,
    clerk_config,
    jupyter_origin,
    root,
    tab,
)
