# -*- coding: utf-8 -*-
"""Unit tests of the hub client: which redirects stay on the hub, and the readiness of a
user's server read from the hub API's user model."""

from ansible_collections.lticontainer.hub.plugins.module_utils import hub_client


def test_hub_client_redirect_scope():
    hub = hub_client.HubClient('https://172.17.0.2:443', validate_certs=False)
    assert hub.on_hub('/hub/home')
    assert hub.on_hub('https://172.17.0.2/hub/spawn-pending/x')  # default port written or not
    assert not hub.on_hub('/user/x/lab')
    assert hub.on_hub('/user/x/lab', ('/hub/', '/user/'))
    assert not hub.on_hub('https://other.example.org/hub/home')
    assert not hub.on_hub('http://172.17.0.2/hub/home')
    assert hub.url('/hub/spawn') == 'https://172.17.0.2:443/hub/spawn'


def test_hub_client_over_ipv6():
    hub = hub_client.HubClient('https://[fd00:1::5]:443/', validate_certs=False)
    assert hub.url('/hub/spawn') == 'https://[fd00:1::5]:443/hub/spawn'
    assert hub.on_hub('/hub/home')
    assert hub.on_hub('https://[FD00:1::5]/hub/spawn-pending/x')  # case and default port do not matter
    assert not hub.on_hub('https://[fd00:1::6]/hub/home')
    assert not hub.on_hub('https://fd00.example.org/hub/home')


def test_server_state():
    server_state = hub_client.server_state
    assert server_state({'servers': {}}) == (False, None, 'no server')
    assert server_state({'servers': {'': {'ready': False, 'pending': 'spawn', 'url': '/user/a/'}}})[0] is False
    assert server_state({'servers': {'': {'ready': True, 'url': '/user/a/'}}}) == (True, '/user/a/', 'ready')
    assert server_state(None)[0] is False
