"""A student's browser and Moodle's API calls against a hub, from the controller, with the
collection's own LTI code (stdlib only): a signed launch, the spawn, the OAuth handshake
with the student's server, and later requests in the same cookie session."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], '.collections'))

# pylint: disable=wrong-import-position
from ansible_collections.lticontainer.hub.plugins.module_utils.hub_client import HubClient, server_state  # noqa: E402
from ansible_collections.lticontainer.hub.plugins.module_utils.lti_oauth import launch_fields, sign_launch  # noqa: E402

KEY = os.environ['MOLECULE_LTI_CONSUMER_KEY']
SECRET = os.environ['MOLECULE_LTI_CONSUMER_SECRET']
TOKEN = os.environ['MOLECULE_API_TOKEN']
USER_AREAS = ('/hub/', '/user/')


class Student:
    """One student's cookie session on one hub (the hub's self-signed certificate is not checked)."""

    def __init__(self, url, name, user_id, custom=None, roles='Learner', extra=None):
        self.name, self.user_id, self.roles = name, str(user_id), roles
        self.custom = dict({'lms_sessioninfo': '1,1', 'lms_users': name}, **(custom or {}))
        # Launch fields beyond the custom ones, as a patched Moodle sends (ext_user_userid, ...).
        self.extra = dict(extra or {})
        self.hub = HubClient(url, validate_certs=False, timeout=30)

    def signed_launch(self, action, next_url=None):
        """The signed form fields Moodle's launch page posts to action (the hub's /hub/lti/launch)."""
        custom = dict(self.custom, next=next_url) if next_url else self.custom
        fields = dict(launch_fields(self.user_id, self.name, self.roles, custom=custom), **self.extra)
        return sign_launch(action, fields, KEY, SECRET)

    def post_launch(self):
        """Moodle's signed launch alone: (HTTP status, response headers, page body)."""
        signed = self.signed_launch(self.hub.url('/hub/lti/launch'))
        status, headers, body = self.hub.request('POST', '/hub/lti/launch', data=moodle_order(signed))
        return status, headers, body.decode('utf-8', 'replace')

    def login(self):
        """Moodle's signed launch alone: (HTTP status, page body)."""
        status, _headers, body = self.post_launch()
        return status, body

    def launch(self, timeout=120):
        """What Moodle's launch and the Start button do; returns the hub's model of the server."""
        status, _body = self.login()
        assert status == 302, 'launch refused: HTTP %d' % status
        self.hub.follow('GET', '/hub/spawn')
        return self.wait_ready(timeout)

    def refused_spawn(self, timeout=60):
        """Launch and press Start for a server the hub must not start: (the status and page the
        student's browser gets from /hub/spawn, the hub's last progress event for the server)."""
        status, _body = self.login()
        assert status == 302, 'launch refused: HTTP %d' % status
        status, _headers, page = self.hub.follow('GET', '/hub/spawn')
        deadline = time.monotonic() + timeout
        while True:
            events = self.progress()
            if events and events[-1].get('failed'):
                return status, page.decode('utf-8', 'replace'), events[-1]
            assert not (events and events[-1].get('ready')), 'the hub started the server of %s' % self.name
            assert time.monotonic() < deadline, 'no failure for %s: %s' % (self.name, events)
            time.sleep(1)

    def progress(self):
        """The hub's progress events for the server (GET .../server/progress, an event stream)."""
        status, _headers, body = self.hub.request('GET', '/hub/api/users/%s/server/progress' % self.name, headers={
            'Authorization': 'token %s' % TOKEN, 'Accept': 'text/event-stream'})
        assert status == 200, status
        return [json.loads(line[len('data:'):]) for line in body.decode('utf-8').splitlines()
                if line.startswith('data:')]

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            model = self.model()
            if server_state(model)[0]:
                return model['servers']['']
            assert time.monotonic() < deadline, 'server of %s not ready: %s' % (self.name, server_state(model)[2])
            time.sleep(1)

    def model(self):
        """GET /hub/api/users/NAME with Moodle's token: what the hub believes."""
        status, model = self.hub.api('GET', '/hub/api/users/%s' % self.name, TOKEN)
        assert status == 200, status
        return model

    def open_server(self):
        """The OAuth handshake a browser does on its first page of the server (its cookie then
        authenticates API calls). A page that needs a login starts it; a missing file is fine."""
        self.hub.follow('GET', '/user/%s/files/handshake' % self.name, areas=USER_AREAS)

    def status(self):
        """GET /user/NAME/api/status through the proxy with the session: (HTTP status, JSON)."""
        status, _headers, body = self.hub.request('GET', '/user/%s/api/status' % self.name)
        return status, body

    def stop(self):
        """Moodle's stop: DELETE /hub/api/users/NAME/server with its token."""
        return self.hub.api('DELETE', '/hub/api/users/%s/server' % self.name, TOKEN)[0]


def moodle_order(fields):
    """The form fields in the order Moodle's launch page posts them: its OAuth library's own first,
    oauth_version leading (ltictr_proxy recognises a launch by that start), then the launch's."""
    first = [key for key in ('oauth_version', 'oauth_nonce', 'oauth_timestamp', 'oauth_consumer_key') if key in fields]
    return dict([(key, fields[key]) for key in first] + [(k, v) for k, v in fields.items() if k not in first])


def wait_for_hub(url, timeout=90):
    """Until the hub answers /hub/health through the proxy."""
    hub = HubClient(url, validate_certs=False, timeout=5)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if hub.request('GET', '/hub/health', record=False)[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, 'the hub at %s did not come back' % url
        time.sleep(1)
