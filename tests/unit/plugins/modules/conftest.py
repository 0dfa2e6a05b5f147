# -*- coding: utf-8 -*-
"""Modules run on the target, without Ansible's controller code. A controller plugin's test (a
filter imports ansible.errors) marks the whole test process as the controller, and a module's
warnings would then go to the display instead of its result: run each module test as a target."""

import pytest
from ansible.module_utils import _internal


@pytest.fixture(autouse=True)
def as_target(monkeypatch):
    monkeypatch.setattr(_internal, 'is_controller', False)
