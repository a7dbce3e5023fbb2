"""The prompt encoder, loaded once per test session (about 4 s)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def encoder():
    import torch

    from realitygap.prompts.embed import shared_encoder

    torch.set_num_threads(1)
    return shared_encoder()
