# -*- coding: utf-8 -*-
"""Unit tests of the LTI launch: signatures checked against oauthlib (an independent
OAuth 1.0a implementation, the one ltiauthenticator itself uses), the launch fields and
the hub user name."""

import time
import urllib.parse

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils import lti_oauth

from oauthlib import oauth1
from oauthlib.oauth1.rfc5849 import signature as oauth_sig

# ltiauthenticator 1.6.3 calls the deprecated sign_hmac_sha1 too; that is the point of using it.
pytestmark = pytest.mark.filterwarnings('ignore:use sign_hmac_sha1_with_client')

URLS = [
    'https://172.17.0.2:443/hub/lti/launch',
    'HTTPS://Hub.Example.ORG/hub/lti/launch',
    'http://127.0.0.1:80/hub/lti/launch',
    'http://127.0.0.1:8000/prefix/hub/lti/launch',
    'https://hub.example.org:8443/hub/lti/launch',
]

PARAMS = [
    {'user_id': '7', 'resource_link_id': '1'},
    {'custom_lms_image': 'lticontainer-singleuser : abc', 'custom_lms_memlimit': '268,435,456',
     'ext_user_username': 'Jürgen Müller', 'lis_person_name_full': '山田 太郎',
     'custom_x': 'a+b~c*d,e/f=g&h%i', 'roles': 'Instructor,urn:lti:role:ims/lis/Learner'},
]


class FakeRequest(object):
    """What oauthlib's verify_hmac_sha1 reads from a request, built like a server would
    from the form it received."""

    def __init__(self, uri, form_body):
        pairs = urllib.parse.parse_qsl(form_body, keep_blank_values=True)
        self.uri = uri
        self.http_method = 'POST'
        self.params = oauth_sig.collect_parameters(body=pairs, exclude_oauth_signature=True)
        self.signature = dict(pairs)['oauth_signature']


def oauthlib_signature(url, signed, secret):
    """oauthlib's signature over the same fields, assembled as ltiauthenticator does."""
    base = oauth_sig.signature_base_string(
        'POST', oauth_sig.base_string_uri(url),
        oauth_sig.normalize_parameters(oauth_sig.collect_parameters(body=list(signed.items()))))
    return oauth_sig.sign_hmac_sha1(base, secret, None)


@pytest.mark.parametrize('url', URLS)
@pytest.mark.parametrize('params', PARAMS)
def test_signature_matches_oauthlib(url, params):
    signed = lti_oauth.sign_launch(url, params, 'moodle-key', 's3cr3t&+ü', timestamp=1700000000, nonce='abc123')
    assert signed['oauth_signature'] == oauthlib_signature(url, signed, 's3cr3t&+ü')
    assert signed['oauth_timestamp'] == '1700000000' and signed['oauth_nonce'] == 'abc123'


@pytest.mark.parametrize('url', URLS)
def test_signature_matches_oauthlib_client(url):
    params = PARAMS[1]
    client = oauth1.Client('moodle-key', client_secret='secret', signature_type=oauth1.SIGNATURE_TYPE_BODY,
                           nonce='n0nce', timestamp='1700000000')
    _uri, _headers, body = client.sign(url, http_method='POST', body=params,
                                       headers={'Content-Type': 'application/x-www-form-urlencoded'})
    expected = dict(urllib.parse.parse_qsl(body))['oauth_signature']
    ours = lti_oauth.sign_launch(url, params, 'moodle-key', 'secret', timestamp=1700000000, nonce='n0nce')
    assert ours['oauth_signature'] == expected


@pytest.mark.parametrize('url', URLS)
def test_oauthlib_server_check_accepts_and_detects_tampering(url):
    signed = lti_oauth.sign_launch(url, PARAMS[1], 'moodle-key', 'secret')
    # The hub sees a form body; encode it as urllib would send it.
    body = urllib.parse.urlencode(signed)
    assert oauth_sig.verify_hmac_sha1(FakeRequest(url, body), 'secret')
    assert not oauth_sig.verify_hmac_sha1(FakeRequest(url, body), 'other-secret')
    tampered = dict(signed, custom_lms_cpulimit='8')
    assert not oauth_sig.verify_hmac_sha1(FakeRequest(url, urllib.parse.urlencode(tampered)), 'secret')
    moved = urllib.parse.urlsplit(url)._replace(netloc='evil.example.org').geturl()
    assert not oauth_sig.verify_hmac_sha1(FakeRequest(moved, body), 'secret')


@pytest.mark.parametrize('url,expected', [
    ('HTTPS://Hub.Example.ORG:443/hub/lti/launch', 'https://hub.example.org/hub/lti/launch'),
    ('http://127.0.0.1:80/hub/lti/launch?x=1', 'http://127.0.0.1/hub/lti/launch'),
    ('https://172.17.0.2:8443/hub/lti/launch', 'https://172.17.0.2:8443/hub/lti/launch'),
    ('http://[::1]:8000/hub', 'http://[::1]:8000/hub'),
    ('HTTPS://[FD00:1::5]:443/hub/lti/launch', 'https://[fd00:1::5]/hub/lti/launch'),
    ('https://user@[2001:db8::10]:8443/', 'https://[2001:db8::10]:8443/'),
    ('https://hub.example.org', 'https://hub.example.org/'),
])
def test_base_string_uri_normalisation(url, expected):
    assert lti_oauth.base_string_uri(url) == expected
    assert oauth_sig.base_string_uri(url) == expected


@pytest.mark.parametrize('url', ['https://2001:db8::10/hub', 'https://2001:db8::10:443/hub', 'http://::1:8000/'])
def test_base_string_uri_wants_ipv6_in_brackets(url):
    with pytest.raises(ValueError, match='IPv6 address goes in brackets'):
        lti_oauth.base_string_uri(url)


def test_base_string_uri_rejects_non_http():
    with pytest.raises(ValueError):
        lti_oauth.base_string_uri('ftp://hub.example.org/')
    with pytest.raises(ValueError):
        lti_oauth.base_string_uri('hub.example.org/hub')


def test_each_launch_has_a_fresh_nonce_and_current_timestamp():
    one = lti_oauth.sign_launch('https://h/hub/lti/launch', {}, 'k', 's')
    two = lti_oauth.sign_launch('https://h/hub/lti/launch', {}, 'k', 's')
    assert one['oauth_nonce'] != two['oauth_nonce']
    assert abs(int(one['oauth_timestamp']) - time.time()) < 5
    assert {k for k in one if k.startswith('oauth_')} == {
        'oauth_consumer_key', 'oauth_nonce', 'oauth_signature_method', 'oauth_timestamp',
        'oauth_version', 'oauth_signature'}
    assert one['oauth_signature_method'] == 'HMAC-SHA1' and one['oauth_version'] == '1.0'


def test_launch_fields_required_and_custom_defaults():
    fields = lti_oauth.launch_fields('7', 'student01', 'Learner', '42', '3',
                                     'https://moodle.example.org/mod/lti/service.php',
                                     {'lms_image': 'img : tag', 'custom_lms_cpulimit': 0.5})
    assert fields['lti_message_type'] == 'basic-lti-launch-request'
    assert fields['lti_version'] == 'LTI-1p0'
    assert (fields['user_id'], fields['resource_link_id'], fields['context_id']) == ('7', '3', '42')
    assert fields['ext_user_username'] == 'student01'
    assert fields['custom_lms_image'] == 'img : tag'
    assert fields['custom_lms_cpulimit'] == '0.5'  # already prefixed: not doubled
    assert 'custom_custom_lms_cpulimit' not in fields
    assert fields['custom_lms_sessioninfo'] == '1,1'  # merged in by default
    assert fields['lis_outcome_service_url'].startswith('https://moodle.example.org/')


def test_launch_fields_given_sessioninfo_wins_and_no_username():
    fields = lti_oauth.launch_fields('9', '', custom={'lms_sessioninfo': '5,6'})
    assert fields['custom_lms_sessioninfo'] == '5,6'
    assert 'ext_user_username' not in fields
    assert lti_oauth.hub_user_name('', '9') == '9'
    assert lti_oauth.hub_user_name('Student01', '9') == 'student01'
