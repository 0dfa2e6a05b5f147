"""Tests for the outbound proxy's checks and environment (module_utils/proxy.py)."""

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils import proxy

URL = 'http://proxy.example.ac.jp:3128'


@pytest.mark.parametrize('value', [
    URL,
    'http://proxy.example.ac.jp',
    'https://proxy.example.ac.jp:8443/',
    'http://user:p%40ss@proxy.example.ac.jp:3128',
    'http://192.0.2.8:3128',
    'http://[2001:db8::8]:3128',
])
def test_proxy_urls_that_pass(value):
    assert proxy.url_problem(value) is None


@pytest.mark.parametrize('value,problem', [
    ('', 'must be a URL'),
    (None, 'must be a URL'),
    ('proxy.example.ac.jp:3128', 'must start with http:// or https://'),
    ('socks5://proxy.example.ac.jp:1080', 'must start with http:// or https://'),
    ('http://:3128', 'must name the proxy host'),
    ('http://proxy.example.ac.jp:99999', 'port'),
    ('http://proxy.example.ac.jp:0', 'port'),
    ('http://proxy.example.ac.jp:http', 'port'),
    ('http://proxy.example.ac.jp:3128/path', 'without a path'),
    ('http://proxy.example.ac.jp:3128?x=1', 'without a path'),
    ('http://proxy example:3128', 'whitespace'),
    ('http://proxy.example.ac.jp:3128"; Foo "x', 'quotes'),
])
def test_proxy_urls_that_fail_say_why(value, problem):
    assert problem in proxy.url_problem(value)


def test_no_proxy_as_a_list_or_a_string():
    assert proxy.no_proxy_list(['localhost', ' .example.ac.jp ']) == ['localhost', '.example.ac.jp']
    assert proxy.no_proxy_list('localhost,10.0.0.0/8') == ['localhost', '10.0.0.0/8']
    assert proxy.no_proxy_list([]) == []
    for bad in (['two words'], ['a,b'], [''], [3128], {'localhost': 1}):
        with pytest.raises(ValueError):
            proxy.no_proxy_list(bad)


def test_problems_name_each_variable_and_pass_what_is_off():
    assert proxy.problems('os_base_', '', '', []) == []
    assert proxy.problems('os_base_', URL, URL, ['localhost']) == []
    found = proxy.problems('container_runtime_', 'proxy:3128', 'http://p:1/x', ['a b'])
    assert [f.split(' ')[0] for f in found] == [
        'container_runtime_http_proxy', 'container_runtime_https_proxy', 'container_runtime_no_proxy']
    assert "(got 'proxy:3128')" in found[0]


def test_passwords_are_masked_in_messages():
    found = proxy.problems('os_base_', 'http://alice:s3cret@proxy:3128/x', '', [])
    assert len(found) == 1 and 's3cret' not in found[0] and 'alice:****@proxy' in found[0]


def test_environment_gives_both_spellings():
    env = proxy.environment(URL, 'http://other:8080', ['localhost', '.example.ac.jp'])
    assert env == {
        'http_proxy': URL, 'HTTP_PROXY': URL,
        'https_proxy': 'http://other:8080', 'HTTPS_PROXY': 'http://other:8080',
        'no_proxy': 'localhost,.example.ac.jp', 'NO_PROXY': 'localhost,.example.ac.jp'}


def test_environment_is_empty_without_a_proxy():
    # An empty environment: tasks and daemons run as they did before any proxy was set.
    assert proxy.environment('', '', ['localhost']) == {}
    assert proxy.environment() == {}
    assert proxy.environment('', URL) == {'https_proxy': URL, 'HTTPS_PROXY': URL}
