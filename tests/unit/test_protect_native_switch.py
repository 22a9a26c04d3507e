"""SECPIPE_PROTECT_NATIVE=0 turns the optional C accelerator of the protect stages off."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = "from secpipe.transforms.protect import _native; print(_native.available(), _native._screen_function() is None)"


def test_operator_can_turn_the_accelerator_off() -> None:
    env = {**os.environ, "SECPIPE_PROTECT_NATIVE": "0"}
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
