"""Tests for addresses of both families (module_utils/addresses.py)."""

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils.addresses import (
    address_problem, bare_host, hub_urls, network_problem, url_host)


@pytest.mark.parametrize('host, expected', [
    ('192.0.2.10', '192.0.2.10'),
    ('hub1.example.ac.jp', 'hub1.example.ac.jp'),
    ('2001:db8::10', '[2001:db8::10]'),
    ('[2001:db8::10]', '[2001:db8::10]'),
    ('::', '[::]'),
])
def test_url_host_brackets_ipv6_literals_only(host, expected):
    assert url_host(host) == expected


@pytest.mark.parametrize('host, expected', [
    ('[2001:db8::10]', '2001:db8::10'),
    ('2001:db8::10', '2001:db8::10'),
    ('192.0.2.10', '192.0.2.10'),
    ('hub1.example.ac.jp', 'hub1.example.ac.jp'),
])
def test_bare_host_drops_the_brackets(host, expected):
    assert bare_host(host) == expected


@pytest.mark.parametrize('value', ['192.0.2.10', '2001:db8::10', 'fd00:1::5', '::ffff:192.0.2.1'])
def test_addresses_of_both_families_pass(value):
    assert address_problem(value) is None


@pytest.mark.parametrize('value', ['0.0.0.0', '::', '0::0'])
def test_the_unspecified_address_passes_only_when_allowed(value):
    assert 'unspecified' in address_problem(value)
    assert address_problem(value, unspecified=True) is None


@pytest.mark.parametrize('value', ['', 'hub1', '192.0.2.300', '2001:db8::10/64', '[2001:db8::10]', ':::', '2001:db8::g'])
def test_not_an_address(value):
    assert address_problem(value) == 'is not an IPv4 or IPv6 address'


@pytest.mark.parametrize('value', ['192.0.2.10', '192.0.2.0/24', '172.16.0.0/12', '2001:db8::10',
                                   '2001:db8::/32', 'fd00::/8', '2001:db8::1/64'])
def test_networks_of_both_families_pass(value):
    assert network_problem(value) is None


@pytest.mark.parametrize('value', ['0.0.0.0/0', '::/0', '0::/0', '::0/0', '2001:db8::/0', '10.0.0.0/0'])
def test_a_network_of_every_address_passes_only_when_allowed(value):
    assert network_problem(value) == 'matches every address'
    assert network_problem(value, any_host=True) is None


@pytest.mark.parametrize('value', ['', 'moodle.example.ac.jp', '192.0.2.0/33', '2001:db8::/129', '192.0.2.*',
                                   ':::/64', '[2001:db8::]/32', '192.0.2.0/24,198.51.100.0/24'])
def test_not_a_network(value):
    assert network_problem(value) == 'is not an IPv4 or IPv6 address or CIDR network'


@pytest.mark.parametrize('proxy, hub, host, expected', [
    # The default: proxy and hub API on the host's IPv4 address, as before IPv6.
    ('192.0.2.10', '192.0.2.10', ['192.0.2.10', ''], ['https://192.0.2.10:443']),
    # IPv6-only: one address, in brackets.
    ('2001:db8::10', '2001:db8::10', ['', '2001:db8::10'], ['https://[2001:db8::10]:443']),
    # Dual-stack: the hub API's address first, then the other family's.
    ('::', '192.0.2.10', ['192.0.2.10', '2001:db8::10'], ['https://192.0.2.10:443', 'https://[2001:db8::10]:443']),
    ('::', '2001:db8::10', ['192.0.2.10', '2001:DB8:0::10'], ['https://[2001:db8::10]:443', 'https://192.0.2.10:443']),
    # 0.0.0.0 is IPv4 only.
    ('0.0.0.0', '192.0.2.10', ['192.0.2.10', '2001:db8::10'], ['https://192.0.2.10:443']),
    # A proxy on its own address serves that one only.
    ('2001:db8::10', '192.0.2.10', ['192.0.2.10', '2001:db8::10'], ['https://[2001:db8::10]:443']),
])
def test_hub_urls(proxy, hub, host, expected):
    assert hub_urls(proxy, '443', hub, host) == expected
