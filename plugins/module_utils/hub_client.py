# -*- coding: utf-8 -*-
# Copyright: lticontainer.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A browser-like HTTP client for one JupyterHub, and the readiness of a user's server
as the hub's REST API reports it.

Standard library only: the lti_launch module runs on the hub host with the system
python3 (3.9+), where requests cannot be assumed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.cookiejar
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

from ansible_collections.lticontainer.hub.plugins.module_utils.lti_oauth import base_string_uri


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Hand 3xx responses back to the caller so each hop is recorded and checked.
    def http_error_302(self, req, fp, code, msg, headers):
        return fp

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class HubClient(object):
    """A browser-like session against one hub: cookie jar, manual redirects,
    one step record per request (method, path, status, location)."""

    def __init__(self, base_url, validate_certs=True, ca_path=None, timeout=30):
        self.base_url = base_url.rstrip('/')
        self.prefix = urllib.parse.urlsplit(self.base_url).path.rstrip('/')
        self.timeout = timeout
        self.steps = []
        self.cookies = http.cookiejar.CookieJar()
        if not validate_certs:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(cafile=ca_path)
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # talk to the hub directly, never via a proxy
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(self.cookies),
            _NoRedirect())

    def url(self, path):
        """Absolute URL of a hub path ('/hub/...', relative to the base URL's path)."""
        if '://' in path:
            return path
        if path.startswith(self.prefix + '/'):
            path = path[len(self.prefix):]
        return self.base_url + path

    def on_hub(self, location, areas=('/hub/',)):
        """Whether a redirect target stays on this hub's host and under one of areas."""
        target = urllib.parse.urljoin(self.base_url + '/', location)
        # Compared as the launch signature sees them: case and default ports do not matter.
        if base_string_uri(target).split('/')[:3] != base_string_uri(self.base_url).split('/')[:3]:
            return False  # another host (or port): not the hub
        target = urllib.parse.urlsplit(target)
        return any(target.path.startswith(self.prefix + area) for area in areas)

    def request(self, method, path, data=None, headers=None, record=True):
        """Send one request; return (status, headers, body bytes). Never follows redirects;
        4xx/5xx come back as statuses, connection failures raise urllib.error.URLError."""
        url = self.url(path)
        body = None
        headers = dict(headers or {})
        if data is not None:
            body = urllib.parse.urlencode(data).encode('utf-8')
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        req = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            resp = self.opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            resp = err
        with resp:
            status, resp_headers, content = resp.getcode(), resp.headers, resp.read()
        if record:
            self.record(method, url, status, resp_headers.get('Location'))
        return status, resp_headers, content

    def record(self, method, url, status, location=None):
        parts = urllib.parse.urlsplit(url)
        step = {'method': method, 'path': parts.path + ('?' + parts.query if parts.query else ''),
                'status': status, 'location': location}
        # Polling repeats the same request: keep one entry per distinct outcome.
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)

    def follow(self, method, path, max_hops=10, areas=('/hub/',)):
        """Request path and follow its redirects while they stay on the hub;
        return the last (status, headers, body)."""
        url = self.url(path)
        # As a browser's page navigation: JupyterHub 4.1 then skips its XSRF check on GET
        # without logging the request as insecure.
        nav = {'Sec-Fetch-Mode': 'navigate'}
        status, headers, body = self.request(method, url, headers=nav)
        for _hop in range(max_hops):
            location = headers.get('Location')
            if status not in (301, 302, 303, 307, 308) or not location or not self.on_hub(location, areas):
                break
            url = urllib.parse.urljoin(url, location)
            status, headers, body = self.request('GET', url, headers=nav)
        return status, headers, body

    def api(self, method, path, token):
        """Hub REST API call with a token; returns (status, parsed JSON or None)."""
        status, _headers, body = self.request(method, path, headers={
            'Authorization': 'token %s' % token, 'Accept': 'application/json'})
        try:
            return status, json.loads(body.decode('utf-8')) if body else None
        except ValueError:
            return status, None


def server_state(user_model):
    """(ready, url, description) of the user's default server from GET /hub/api/users/NAME."""
    servers = (user_model or {}).get('servers') or {}
    server = servers.get('')
    if not server:
        pending = (user_model or {}).get('pending')
        return False, None, 'no server' + (' (pending: %s)' % pending if pending else '')
    if server.get('ready'):
        return True, server.get('url'), 'ready'
    return False, server.get('url'), 'pending: %s' % (server.get('pending') or 'unknown')
