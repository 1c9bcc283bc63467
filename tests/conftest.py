"""Hypothesis profiles and fixtures shared by the tests.

``FAST=1`` runs fewer examples for a quick local loop; CI runs the default profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fast", parent=settings.get_profile("default"), max_examples=10
)
settings.load_profile("fast" if os.environ.get("FAST") == "1" else "default")
