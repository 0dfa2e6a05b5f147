"""Tests for the ip_problems and url_host filters, as the roles call them."""
import pytest

from ansible_collections.lticontainer.hub.plugins.filter.ip_problems import FilterModule as CheckFilters
from ansible_collections.lticontainer.hub.plugins.filter.url_host import FilterModule as HostFilters

ip_problems = CheckFilters().filters()['ip_problems']
url_host = HostFilters().filters()['url_host']


def test_networks_of_both_families_pass():
    assert ip_problems(['192.0.2.10', '2001:db8::/32', 'fd00:1::5'], 'tunnel_user_moodle_addresses', networks=True) == []


def test_each_wrong_network_is_named_with_its_variable():
    found = ip_problems(['192.0.2.10', '::/0', 'moodle'], 'tunnel_user_moodle_addresses', networks=True)
    assert found == ["tunnel_user_moodle_addresses: '::/0' matches every address.",
                     "tunnel_user_moodle_addresses: 'moodle' is not an IPv4 or IPv6 address or CIDR network."]


def test_every_address_passes_when_allowed():
    assert ip_problems(['0.0.0.0/0', '::/0'], 'os_base_container_networks', networks=True, any_host=True) == []


@pytest.mark.parametrize('value', ['192.0.2.10', '192.0.2.10/32', None, {'a': 1}])
def test_networks_must_be_a_list(value):
    found = ip_problems(value, 'os_base_container_networks', networks=True)
    assert len(found) == 1 and found[0].startswith('os_base_container_networks must be a list')


def test_one_address():
    assert ip_problems('2001:db8::10', 'jupyterhub_proxy_ip_addr') == []
    assert ip_problems('::', 'jupyterhub_proxy_ip_addr', unspecified=True) == []
    assert ip_problems('::', 'jupyterhub_proxy_ip_addr') == [
        "jupyterhub_proxy_ip_addr: '::' is the unspecified address (every address), not one address."]
    assert ip_problems('[2001:db8::10]', 'jupyterhub_proxy_ip_addr') == [
        "jupyterhub_proxy_ip_addr: '[2001:db8::10]' is not an IPv4 or IPv6 address."]


def test_url_host():
    assert url_host('2001:db8::10') == '[2001:db8::10]'
    assert url_host('192.0.2.10') == '192.0.2.10'
