"""Tests for the proxy_env and proxy_problems filters, as the roles call them."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lticontainer.hub.plugins.filter.proxy_env import FilterModule as EnvFilters
from ansible_collections.lticontainer.hub.plugins.filter.proxy_problems import FilterModule as CheckFilters

proxy_env = EnvFilters().filters()['proxy_env']
proxy_problems = CheckFilters().filters()['proxy_problems']


def test_proxy_env_as_a_task_environment():
    assert proxy_env('', '', []) == {}
    assert proxy_env(None, None, None) == {}
    env = proxy_env('http://proxy:3128', 'http://proxy:3128', ['localhost'])
    assert env['HTTPS_PROXY'] == env['http_proxy'] == 'http://proxy:3128' and env['no_proxy'] == 'localhost'


def test_proxy_env_refuses_a_bad_no_proxy_list():
    with pytest.raises(AnsibleFilterError, match='no_proxy'):
        proxy_env('http://proxy:3128', '', ['two words'])


def test_proxy_problems_names_the_role_variable():
    assert proxy_problems('jupyterhub_', 'http://proxy:3128', '', []) == []
    found = proxy_problems('jupyterhub_', 'ftp://proxy', '', [])
    assert len(found) == 1 and found[0].startswith('jupyterhub_http_proxy must start with http://')
