"""c.ClerkSocketLimits / CLERK_* settings: raised limits, a warning when the system refuses."""

from __future__ import annotations

import logging
import resource
import subprocess
import sys

import pytest
import zmq

from jupyter_clerk.errors import ClerkConfigError
from jupyter_clerk.workspaces.socket_limits import (
    ENVIRONMENT,
    FILES_PER_WEBSOCKET,
    ClerkSocketLimits,
)


def test_defaults_follow_the_number_of_websockets(monkeypatch):
    monkeypatch.setenv("CLERK_MAX_KERNEL_WEBSOCKETS", "500")
    limits = ClerkSocketLimits()
    assert limits.zmq_max_sockets == 4 * 500 + 1024
    assert limits.open_files == 10 * 500 + 1024


@pytest.mark.parametrize("value", ["many", "-1"])
def test_a_bad_limit_names_the_trait_and_the_variable(monkeypatch, value):
    monkeypatch.setenv("CLERK_MAX_KERNEL_WEBSOCKETS", value)
    with pytest.raises(ClerkConfigError) as info:
        ClerkSocketLimits().max_kernel_websockets  # noqa: B018
    assert "max_kernel_websockets" in str(info.value)
    assert "CLERK_MAX_KERNEL_WEBSOCKETS" in str(info.value)


@pytest.mark.parametrize("trait", sorted(ENVIRONMENT))
def test_a_negative_limit_from_config_is_a_clear_start_up_error(trait):
    """Before, only the CLERK_* path checked: -1 per person from config made `full_for` true
    for everyone (every kernel WebSocket got 429), -1 in all made `full` true (503)."""
    with pytest.raises(ClerkConfigError) as info:
        getattr(ClerkSocketLimits(**{trait: -1}), trait)
    assert f"c.ClerkSocketLimits.{trait}" in str(info.value)
    assert ENVIRONMENT[trait] in str(info.value)


def test_a_refused_open_file_limit_warns_and_admits_fewer_sockets(monkeypatch, caplog):
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

    def refuse(*args):
        raise ValueError("not allowed")

    monkeypatch.setattr(resource, "setrlimit", refuse)
    limits = ClerkSocketLimits(max_kernel_websockets=10 * soft)
    with caplog.at_level(logging.WARNING):
        allowed = limits.raise_open_files()
    assert allowed < 10 * soft
    assert allowed * 10 <= soft
    assert "CLERK_OPEN_FILES" in caplog.text and "c.ClerkSocketLimits.open_files" in caplog.text


# Run apart: lowering this process's open-file limit would disturb the other tests.
PROBE = """
import resource, sys
from jupyter_clerk.workspaces.socket_limits import ClerkSocketLimits
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), 4096))
limits = ClerkSocketLimits(max_kernel_websockets=2000, open_files=2048)
allowed = limits.raise_open_files()
print(allowed, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


@pytest.mark.parametrize(("soft_before", "soft_after"), [(1024, 2048), (4096, 4096)])
def test_an_operators_smaller_open_file_limit_caps_the_admitted_sockets(soft_before, soft_after):
    """As a smaller system limit does: before, 2 048 open files admitted 2 000 sockets (about
    20 000 descriptors' worth), and the server failed with "Too many open files"."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(soft_before)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    allowed, soft = map(int, result.stdout.split())
    assert soft == soft_after  # raised toward open_files, never lowered
    assert allowed > 0 and allowed * FILES_PER_WEBSOCKET <= 2048


def test_the_zmq_context_gets_the_configured_socket_limit():
    context = zmq.Context()
    try:
        limits = ClerkSocketLimits(max_kernel_websockets=700)
        assert limits.raise_zmq_sockets(context, 700) == 700
        assert context.get(zmq.MAX_SOCKETS) == 4 * 700 + 1024
    finally:
        context.term()


def test_the_per_person_limit_follows_the_environment(monkeypatch):
    assert ClerkSocketLimits().max_kernel_websockets_per_person == 100
    monkeypatch.setenv("CLERK_MAX_KERNEL_WEBSOCKETS_PER_PERSON", "12")
    assert ClerkSocketLimits().max_kernel_websockets_per_person == 12
    monkeypatch.setenv("CLERK_MAX_KERNEL_WEBSOCKETS_PER_PERSON", "a dozen")
    with pytest.raises(ClerkConfigError) as info:
        ClerkSocketLimits().max_kernel_websockets_per_person  # noqa: B018
    assert "max_kernel_websockets_per_person" in str(info.value)
    assert "CLERK_MAX_KERNEL_WEBSOCKETS_PER_PERSON" in str(info.value)
