"""What `pip install jupyter-clerk` gets: the licence, the prebuilt front end, the command."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """An sdist, and a wheel built from it as pip would (the front end built once, by make)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        env={**os.environ, "SKIP_JUPYTER_BUILDER": "1"},
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def test_the_licence_ships_in_the_sdist(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert f"{sdist.name.removesuffix('.tar.gz')}/LICENSE" in names


def test_the_licence_and_the_built_front_end_ship_in_the_wheel(dist):
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: BSD-3-Clause" in text
    shared = "data/share/jupyter/labextensions/@jupyter-clerk/labextension/"
    assert any(n.endswith(shared + "static/style.js") for n in names)
    assert any(n.endswith(shared + "install.json") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "jupyter-clerk = jupyter_clerk.cli.main:main" in archive.read(entry_points).decode()
