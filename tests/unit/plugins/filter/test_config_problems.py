"""Tests for the config_problems filter: hub_config's checks on the controller, as the preflight tasks call them."""
from ansible_collections.lticontainer.hub.plugins.filter.config_problems import FilterModule

from ..module_utils.test_hub_config import HUB, SECRET, SPAWNER

config_problems = FilterModule().filters()['config_problems']


def test_right_settings_have_no_problems():
    assert config_problems(HUB, 'hub', 'jupyterhub_') == []
    assert config_problems(SPAWNER, 'spawner', 'lticontainerspawner_') == []


def test_each_problem_names_the_role_variable_and_never_the_secret():
    settings = dict(HUB, port=70000, lti_consumer_secret=SECRET[:5])
    found = config_problems(settings, 'hub', 'jupyterhub_')
    assert len(found) == 2
    assert any(p.startswith('jupyterhub_port: ') for p in found)
    assert any(p.startswith('jupyterhub_lti_consumer_secret: ') for p in found)
    assert not any(SECRET[:5] in p for p in found)
