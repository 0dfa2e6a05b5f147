"""Moodle embeds the hub in an iframe: a real browser (headless Chromium) opens a Moodle-like page,
served from an HTTPS origin of its own by the Moodle stand-in, whose form posts the signed launch
into an iframe. JupyterLab must load inside it for Moodle's origin, and not for another origin.
On the first hub only; the screenshot lands in .cache/browser/ (the sandbox's summary points there)."""
import os

import pytest

from browser import launch_page, open_in_iframe, serve_origins
from classroom import Student
from conftest import PROJECT, hub_hosts, moodle_hosts
from test_term import hub_url

testinfra_hosts = hub_hosts()[:1]
# Moodle's origin in molecule/shared/group_vars (jupyterhub_moodle_origin), and another: the browser
# resolves both to the stand-in, so no request leaves this machine.
MOODLE, OTHER = 'moodle.example.org', 'elsewhere.example.org'
SHOTS = os.path.join(PROJECT, '.cache', 'browser')

@pytest.fixture(scope='module')
def standin():
    name = moodle_hosts()[0]
    return name, serve_origins(name, [MOODLE, OTHER])


def page_for(standin, host, student):
    """The launch page a Moodle activity serves, signed now (the hub refuses old timestamps)."""
    name, _address = standin
    action = hub_url(host) + '/hub/lti/launch'
    launch_page(name, student.name + '.html', action, student.signed_launch(action, next_url='/hub/spawn'))
    return student.name + '.html'


def test_jupyterlab_loads_inside_moodles_iframe(host, standin):
    student = Student(hub_url(host), 'iframestudent', 61)
    page = page_for(standin, host, student)
    os.makedirs(SHOTS, exist_ok=True)
    shot = os.path.join(SHOTS, 'jupyterlab-in-moodle.png')
    try:
        assert open_in_iframe('https://%s/%s' % (MOODLE, page), standin[1], [MOODLE, OTHER], screenshot=shot)
    finally:
        student.stop()
    assert os.path.getsize(shot) > 10000


def test_another_origin_may_not_frame_the_hub(host, standin):
    student = Student(hub_url(host), 'framedelsewhere', 62)
    page = page_for(standin, host, student)
    shot = os.path.join(SHOTS, 'refused-elsewhere.png')
    try:
        assert not open_in_iframe('https://%s/%s' % (OTHER, page), standin[1], [MOODLE, OTHER],
                                  screenshot=shot, timeout=30)
    finally:
        student.stop()


def test_the_hubs_cookies_are_sent_from_moodles_iframe(host):
    """A cookie the browser keeps from a cross-site iframe must be SameSite=None and Secure
    (test_security.py checks the frame-ancestors side)."""
    status, headers, _body = Student(hub_url(host), 'headerstudent', 63).post_launch()
    assert status == 302
    cookies = headers.get_all('Set-Cookie')
    assert any(c.startswith('jupyterhub-hub-login=') for c in cookies), cookies
    assert all('SameSite=None' in c and 'Secure' in c for c in cookies), cookies
