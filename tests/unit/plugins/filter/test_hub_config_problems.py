"""Tests for the hub_config_problems filter: the preflight's check of the settings, on the controller.
molecule/shared/tests/test_hub.py runs it through the roles' preflight (test_bad_input_fails_before_anything_changes)."""
from ansible_collections.lticontainer.hub.plugins.filter.hub_config_problems import FilterModule

from ..module_utils.test_hub_config import HUB, SPAWNER

hub_config_problems = FilterModule().filters()['hub_config_problems']


def test_valid_settings_have_no_problems():
    assert hub_config_problems(HUB, 'hub', 'jupyterhub_') == []
    assert hub_config_problems(SPAWNER, 'spawner', 'lticontainerspawner_') == []


def test_each_problem_names_its_variable_and_no_secret():
    bad = dict(HUB, api_token='XXXXXXXX', lti_consumer_secret='short', port=99999)
    found = hub_config_problems(bad, 'hub', 'jupyterhub_')
    assert sorted(p.split(':')[0] for p in found) == ['jupyterhub_api_token', 'jupyterhub_lti_consumer_secret',
                                                      'jupyterhub_port']
    assert not any('XXXXXXXX' in p or 'short' in p.split(':', 1)[1] for p in found), found
    assert hub_config_problems(dict(SPAWNER, mem_limit='lots'), 'spawner', 'lticontainerspawner_')[0].startswith(
        'lticontainerspawner_mem_limit: ')
