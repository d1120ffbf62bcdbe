from __future__ import annotations

import pytest

from tests.factories import World, build_world


@pytest.fixture
def world(db) -> World:  # noqa: ANN001
    return build_world()


@pytest.fixture
def client_for(client):  # noqa: ANN001
    """A test client signed in as the given user."""

    def login(user):  # noqa: ANN001
        client.force_login(user)
        return client

    return login
