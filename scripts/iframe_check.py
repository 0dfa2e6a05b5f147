#!/usr/bin/env python3
"""The sandbox's browser check (as molecule/shared/tests/test_browser.py): the Moodle stand-in serves a
page from Moodle's origin (the inventory's jupyterhub_moodle_origin) whose signed launch posts into an
iframe; Debian's chromium opens it, and JupyterLab must load inside. Screenshot: .cache/browser/."""
import os
import sys
import time

import yaml

from bench_storm import ROOT, hub_exec, secrets

sys.path.insert(0, os.path.join(ROOT, 'molecule', 'shared', 'tests'))
# pylint: disable=wrong-import-position
from browser import launch_page, open_in_iframe, serve_origins  # noqa: E402
from ansible_collections.lticontainer.hub.plugins.module_utils.hub_client import HubClient  # noqa: E402
from ansible_collections.lticontainer.hub.plugins.module_utils.lti_oauth import launch_fields, sign_launch  # noqa: E402

HUB, CLIENT, USER = 'lticontainer-sandbox-hub1', 'lticontainer-sandbox-moodle', 'iframecheck'


def main():
    with open(os.path.join(ROOT, 'inventories', 'sandbox', 'group_vars', 'hubs', 'main.yml')) as f:
        origin = yaml.safe_load(f)['jupyterhub_moodle_origin']
    moodle = origin.split('://', 1)[1]
    url = yaml.safe_load(hub_exec(HUB, 'cat /etc/ansible/facts.d/lticontainer_hub.fact'))['url']
    keys = secrets()
    # The pages' directory comes with the server, so it starts first.
    address = serve_origins(CLIENT, [moodle])
    action = url + '/hub/lti/launch'
    fields = launch_fields('4242', USER, 'Learner', custom={'lms_sessioninfo': '1,1', 'lms_users': USER,
                                                           'next': '/hub/spawn'})
    launch_page(CLIENT, USER + '.html', action,
                sign_launch(action, fields, keys['vault_lti_consumer_key'], keys['vault_lti_consumer_secret']))
    shot = os.path.join(ROOT, '.cache', 'browser', 'jupyterlab-in-moodle.png')
    os.makedirs(os.path.dirname(shot), exist_ok=True)
    start = time.monotonic()
    try:
        loaded = open_in_iframe('%s/%s.html' % (origin, USER), address, [moodle], screenshot=shot)
    finally:
        HubClient(url, validate_certs=False).api('DELETE', '/hub/api/users/%s/server' % USER, keys['vault_api_token'])
    print("browser: JupyterLab %s in %s's iframe (%.0f s); screenshot %s"
          % ('loaded' if loaded else 'did NOT load', origin, time.monotonic() - start, os.path.relpath(shot, ROOT)))
    return 0 if loaded else 1


if __name__ == '__main__':
    sys.exit(main())
