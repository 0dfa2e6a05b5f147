# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LTI 1.1 launch as Moodle's mod_lti sends it: the form fields, signed with OAuth 1.0a
HMAC-SHA1 over the form body (RFC 5849), and the hub user name the launch logs in.

Standard library only: the lti_launch module runs on the hub host with the system
python3 (3.9+), where neither requests nor oauthlib can be assumed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import secrets
import time
import urllib.parse

DEFAULT_CUSTOM = {'lms_sessioninfo': '1,1'}


# ---------------------------------------------------------------- OAuth 1.0a

def oauth_escape(value):
    """RFC 5849 section 3.6 percent-encoding (only ALPHA DIGIT - . _ ~ kept)."""
    return urllib.parse.quote(str(value).encode('utf-8'), safe='~')


def base_string_uri(url):
    """RFC 5849 3.4.1.2: lower-case scheme and host, default port dropped, no query."""
    parts = urllib.parse.urlsplit(url)
    if parts.netloc.rpartition('@')[2].count(':') > 1 and '[' not in parts.netloc:
        # urlsplit would take the address's last groups for a port, or fail on them.
        raise ValueError('an IPv6 address goes in brackets, as in https://[2001:db8::10]/: %s' % url)
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https') or not parts.hostname:
        raise ValueError('not an http(s) URL with a host: %s' % url)
    host = parts.hostname.lower()
    if ':' in host:  # IPv6 literal
        host = '[%s]' % host
    port = parts.port
    if port and (scheme, port) not in (('http', 80), ('https', 443)):
        host = '%s:%d' % (host, port)
    return '%s://%s%s' % (scheme, host, parts.path or '/')


def normalize_parameters(params):
    """RFC 5849 3.4.1.3.2: encode, sort by name then value, join with '&'."""
    pairs = sorted((oauth_escape(k), oauth_escape(v)) for k, v in params.items()
                   if k != 'oauth_signature')
    return '&'.join('%s=%s' % kv for kv in pairs)


def signature_base_string(method, url, params):
    return '&'.join((method.upper(), oauth_escape(base_string_uri(url)),
                     oauth_escape(normalize_parameters(params))))


def hmac_sha1(base_string, consumer_secret, token_secret=''):
    key = '%s&%s' % (oauth_escape(consumer_secret), oauth_escape(token_secret))
    digest = hmac.new(key.encode('utf-8'), base_string.encode('utf-8'), hashlib.sha1).digest()
    return base64.b64encode(digest).decode('ascii')


def sign_launch(url, params, key, secret, timestamp=None, nonce=None):
    """Return params plus the six oauth_* fields of a body-signed POST to url.

    A fresh nonce and the current time by default: the hub refuses replayed
    nonces and timestamps more than 30 s off.
    """
    signed = dict((k, str(v)) for k, v in params.items())
    signed.update({
        'oauth_consumer_key': key,
        'oauth_nonce': nonce or secrets.token_hex(16),
        'oauth_signature_method': 'HMAC-SHA1',
        'oauth_timestamp': str(int(time.time()) if timestamp is None else timestamp),
        'oauth_version': '1.0',
    })
    signed['oauth_signature'] = hmac_sha1(signature_base_string('POST', url, signed), secret)
    return signed


# ---------------------------------------------------------------- launch fields

def launch_fields(user_id='2', username='lti-check', roles='Learner', context_id='1',
                  resource_link_id='1', lis_outcome_service_url=None, custom=None):
    """The unsigned form fields Moodle's mod_lti sends for an LTI 1.1 launch.

    custom keys are given without the 'custom_' prefix (a key that already
    carries it is kept as is, never doubled); DEFAULT_CUSTOM fills the keys
    not given because the spawner refuses a launch without lms_sessioninfo.
    """
    fields = {
        'lti_message_type': 'basic-lti-launch-request',
        'lti_version': 'LTI-1p0',
        'resource_link_id': str(resource_link_id),
        'user_id': str(user_id),
        'roles': roles,
        'context_id': str(context_id),
        'context_type': 'CourseSection',
        'launch_presentation_document_target': 'iframe',
        'tool_consumer_info_product_family_code': 'moodle',
        'ext_lms': 'moodle-2',
    }
    if username:
        fields['ext_user_username'] = username
    if lis_outcome_service_url:
        fields['lis_outcome_service_url'] = lis_outcome_service_url
    merged = dict(DEFAULT_CUSTOM)
    for name, value in (custom or {}).items():
        name = name if name.startswith('custom_') else 'custom_' + name
        merged[name[len('custom_'):]] = value
    for name, value in merged.items():
        fields['custom_' + name] = '' if value is None else str(value)
    return fields


def hub_user_name(username, user_id):
    """The name the hub gives the user: ext_user_username else user_id, lower-cased
    (JupyterHub's default normalize_username)."""
    return (username or str(user_id)).lower()
