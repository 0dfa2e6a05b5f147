"""Tests for the canonical_sans filter: the names as x509_certificate_info prints a certificate's."""
from ansible_collections.lticontainer.hub.plugins.filter.canonical_sans import FilterModule

canonical_sans = FilterModule().filters()['canonical_sans']


def test_ipv6_addresses_are_compressed_and_in_lower_case():
    assert canonical_sans(['IP:2001:DB8:0:0::1', 'IP:fd00:0:0:0:0:0:0:2']) == ['IP:2001:db8::1', 'IP:fd00::2']


def test_other_entries_stay_as_they_are():
    names = ['DNS:Hub1.Example.org', 'IP:192.0.2.10', 'IP:not-an-address', 'email:admin@example.org']
    assert canonical_sans(names) == names
