"""Shared synthetic data sets for the end-to-end tests (made once per test session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from yibao.synth import synthesize

E2E_SCALE = 10_000


@pytest.fixture(scope="session")
def clean_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    synthesize(folder, scale=E2E_SCALE, seed=11)
    return folder


@pytest.fixture(scope="session")
def dirty_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dirty")
    synthesize(folder, scale=E2E_SCALE, seed=12, dirty=True)
    return folder
