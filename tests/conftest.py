"""Shared test set-up: every test gets its own cache directory and user data directory
(saved views, annotations and the audit log never touch the real home)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path_factory.mktemp("userdata")))


@pytest.fixture(autouse=True)
def _chinese_after_each_test():
    """The interface language is process-wide (layers/i18n.py): a test that switched to
    English must not leave it to the next one."""
    yield
    from layers.i18n import set_language

    set_language("zh")
