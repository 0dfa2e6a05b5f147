# -*- coding: utf-8 -*-
"""Tests of the lti_launch module's whole flow against FakeHub, a test double of the
JupyterHub + ltiauthenticator HTTP surface (launch, spawn, users API) that checks launch
signatures with oauthlib, FakeEngine, a test double of the Docker API on a unix socket
(tests/unit/plugins/conftest.py), and FAKE_SSH, a test double of OpenSSH's ssh client that
forwards a local unix socket to FakeEngine after checking the password it reads through
SSH_ASKPASS; and of those steps of the flow whose failures the whole flow does not reach.
The real hub (and a real sshd) are exercised by the Molecule scenario."""

import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

import pytest

from ansible_collections.lticontainer.hub.plugins.modules import lti_launch

from oauthlib.oauth1.rfc5849 import signature as oauth_sig

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib
    from unittest import mock
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()):
            yield

pytestmark = pytest.mark.filterwarnings('ignore:use sign_hmac_sha1_with_client')

KEY, SECRET, TOKEN = 'moodle-key', 'lti-s3cret', 'api-t0ken'
REQUIRED = ('oauth_consumer_key', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method',
            'oauth_timestamp', 'oauth_version', 'lti_message_type', 'lti_version', 'resource_link_id', 'user_id')


class FakeHub(http.server.BaseHTTPRequestHandler):
    """Test double of the hub's HTTP surface. Class attributes are reset per test."""
    ready_after = 2          # polls answered "not ready" before "ready"; None = never ready
    polls = 0
    nonces = set()
    launches = []            # form fields of accepted launches
    stopped = []
    launch_location = '/hub/home'  # where an accepted launch sends the browser
    spawn_status = None      # set: GET /hub/spawn answers this status (a spawn that failed)
    stop_status = 204        # what DELETE /hub/api/users/NAME/server answers an authorised token

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else b''
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def session_user(self):
        for part in (self.headers.get('Cookie') or '').split(';'):
            name, _sep, value = part.strip().partition('=')
            if name == 'fake-hub-session':
                return value
        return None

    def api_authorised(self):
        return self.headers.get('Authorization') == 'token ' + TOKEN

    def do_POST(self):
        if self.path != '/hub/lti/launch':
            return self.reply(404)
        body = self.rfile.read(int(self.headers['Content-Length'])).decode()
        pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
        form = dict(pairs)

        class Req(object):  # what ltiauthenticator hands to oauthlib: scheme + Host header + URI
            uri = 'http://%s%s' % (self.headers['Host'], self.path)
            http_method = 'POST'
            params = oauth_sig.collect_parameters(body=pairs)
            signature = form.get('oauth_signature')

        if (any(k not in form for k in REQUIRED) or form['oauth_consumer_key'] != KEY
                or abs(time.time() - int(form['oauth_timestamp'])) > 30 or form['oauth_nonce'] in self.nonces
                or not oauth_sig.verify_hmac_sha1(Req, SECRET)):
            return self.reply(401)
        FakeHub.nonces.add(form['oauth_nonce'])
        FakeHub.launches.append(form)
        name = (form.get('ext_user_username') or form['user_id']).lower()
        self.reply(302, headers={'Set-Cookie': 'fake-hub-session=%s; Path=/hub/; HttpOnly' % name,
                                 'Location': self.launch_location})

    def do_GET(self):
        user = self.session_user()
        if self.path == '/hub/spawn':
            if not user:
                return self.reply(302, headers={'Location': '/hub/login?next=%2Fhub%2Fspawn'})
            if self.spawn_status:
                return self.reply(self.spawn_status)
            return self.reply(302, headers={'Location': '/hub/spawn-pending/%s' % user})
        if self.path.startswith('/hub/spawn-pending/'):
            return self.reply(200 if user else 403)
        if self.path.startswith('/hub/api/users/'):
            if not self.api_authorised():
                return self.reply(403, {'message': 'Forbidden'})
            FakeHub.polls += 1
            name = self.path.rsplit('/', 1)[1]
            ready = self.ready_after is not None and FakeHub.polls > self.ready_after
            server = {'ready': ready, 'pending': None if ready else 'spawn', 'url': '/user/%s/' % name}
            return self.reply(200, {'name': name, 'servers': {'': server}})
        self.reply(404)

    def do_DELETE(self):
        if not self.api_authorised():
            return self.reply(403)
        FakeHub.stopped.append(self.path)
        self.reply(self.stop_status)


class _FakeHub6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _serve(server_class, address):
    FakeHub.ready_after, FakeHub.polls, FakeHub.nonces, FakeHub.launches, FakeHub.stopped = 2, 0, set(), [], []
    FakeHub.launch_location, FakeHub.spawn_status, FakeHub.stop_status = '/hub/home', None, 204
    server = server_class((address, 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def hub():
    server = _serve(http.server.ThreadingHTTPServer, '127.0.0.1')
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def hub6():
    """FakeHub on IPv6 loopback only: a launch that reached it went over IPv6."""
    try:
        server = _serve(_FakeHub6, '::1')
    except OSError as err:
        pytest.skip('no IPv6 loopback here: %s' % err)
    yield 'http://[::1]:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(lti_launch, 'POLL_INTERVAL', 0.05)


def run_module(capsys, **args):
    """Run main() as Ansible would; return (result dict, failed)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            lti_launch.main()
    result = json.loads(capsys.readouterr().out)
    return result, exit_info.value.code != 0


def base_args(url, tmp_path, **extra):
    args = dict(url=url, consumer_key=KEY, consumer_secret=SECRET, api_token=TOKEN, user_id='7',
                username='Student01', timeout=10, engine_socket=str(tmp_path / 'no-engine.sock'))
    args.update(extra)
    return args


def test_launch_spawn_ready_and_stop(hub, tmp_path, capsys):
    result, failed = run_module(capsys, **base_args(hub, tmp_path, custom={'lms_cpulimit': '0.5'}))
    assert not failed, result
    assert result['changed'] is True
    assert result['user'] == 'student01'  # the hub lower-cases ext_user_username
    assert result['status'] == 302
    assert [(s['method'], s['path'], s['status'], s['location']) for s in result['steps']] == [
        ('POST', '/hub/lti/launch', 302, '/hub/home'),
        ('GET', '/hub/spawn', 302, '/hub/spawn-pending/student01'),
        ('GET', '/hub/spawn-pending/student01', 200, None),
        ('GET', '/hub/api/users/student01', 200, None),
        ('DELETE', '/hub/api/users/student01/server', 204, None),
    ]
    assert FakeHub.polls == 3  # two "not ready" answers, then ready
    assert result['launch_to_ready_seconds'] > 0
    assert result['server_url'] == '/user/student01/'
    assert result['stopped'] is True and result['stop_status'] == 204
    assert 'container' not in result  # no engine socket on this host
    launch = FakeHub.launches[0]
    assert launch['custom_lms_cpulimit'] == '0.5' and launch['custom_lms_sessioninfo'] == '1,1'
    assert SECRET not in json.dumps(result) and TOKEN not in json.dumps(result)


def test_container_inspected_through_engine_socket(hub, tmp_path, engine_socket, capsys):
    result, failed = run_module(capsys, **base_args(hub, tmp_path, engine_socket=engine_socket, stop_server=False))
    assert not failed, result
    assert result['container'] == {
        'id': 'bbb', 'name': 'jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01',
        'image': 'lticontainer-singleuser:abc', 'cpu_limit': 0.5, 'mem_limit': 268435456,
        'binds': [{'source': '/home/others/student01', 'destination': '/home/others/student01'}],
        'volumes': [{'name': 'lms_vol_task_42_moodle.example.org', 'destination': '/v'}],
        'env': {'NB_USER': 'student01'}}
    assert result['stopped'] is False and result['stop_status'] is None and FakeHub.stopped == []


def test_no_container_for_user_fails(hub, tmp_path, engine_socket, capsys):
    result, failed = run_module(capsys, **base_args(hub, tmp_path, engine_socket=engine_socket, username='nobody'))
    assert failed
    assert 'JUPYTERHUB_USER=nobody' in result['msg']


def test_wrong_secret_is_refused_with_401(hub, tmp_path, capsys):
    result, failed = run_module(capsys, **base_args(hub, tmp_path, consumer_secret='not-the-secret'))
    assert failed
    assert result['status'] == 401
    assert result['msg'].startswith('the hub refused the launch: HTTP 401')
    assert result['steps'] == [{'method': 'POST', 'path': '/hub/lti/launch', 'status': 401, 'location': None}]
    assert 'not-the-secret' not in json.dumps(result)


def test_server_never_ready_times_out_naming_user(hub, tmp_path, capsys):
    FakeHub.ready_after = None
    started = time.monotonic()
    result, failed = run_module(capsys, **base_args(hub, tmp_path, timeout=1))
    assert failed
    assert time.monotonic() - started < 5
    assert 'student01' in result['msg'] and '1 s' in result['msg']
    assert result['status'] == 200
    assert result['steps'][0]['status'] == 302


def test_wrong_api_token_fails_fast(hub, tmp_path, capsys):
    result, failed = run_module(capsys, **base_args(hub, tmp_path, api_token='wrong'))
    assert failed
    assert result['status'] == 403 and 'token' in result['msg']


def test_check_mode_sends_nothing(hub, tmp_path, capsys):
    result, failed = run_module(capsys, _ansible_check_mode=True, **base_args(hub, tmp_path))
    assert not failed
    assert result['changed'] is True and 'no launch' in result['msg']
    assert FakeHub.launches == [] and FakeHub.polls == 0


def test_launch_over_ipv6_is_signed_over_the_bracketed_address(hub6, tmp_path, capsys):
    # FakeHub checks the signature over the Host header it got ([::1]:PORT), as ltiauthenticator does.
    result, failed = run_module(capsys, **base_args(hub6 + '/', tmp_path))
    assert not failed, result
    assert result['status'] == 302 and result['stopped'] is True
    assert result['server_url'] == '/user/student01/'
    assert len(FakeHub.launches) == 1


def test_an_ipv6_url_without_brackets_is_refused_saying_why(hub, tmp_path, capsys):
    result, failed = run_module(capsys, **base_args('https://2001:db8::10:443', tmp_path))
    assert failed and 'IPv6 address goes in brackets' in result['msg']
    assert FakeHub.launches == []


@pytest.mark.parametrize('bad', [{'user_id': 'abc'}, {'url': 'hub.example.org'}, {'timeout': 0}])
def test_invalid_inputs_fail_before_any_request(hub, tmp_path, capsys, bad):
    args = base_args(hub, tmp_path)
    args.update(bad)
    result, failed = run_module(capsys, **args)
    assert failed
    assert FakeHub.launches == []



def test_launch_sent_straight_to_a_running_server_is_accepted(hub, tmp_path, capsys):
    FakeHub.launch_location = '/user/student01/lab'  # the hub does this when the server already runs
    result, failed = run_module(capsys, **base_args(hub, tmp_path))
    assert not failed, result
    assert result['steps'][0] == {'method': 'POST', 'path': '/hub/lti/launch', 'status': 302,
                                  'location': '/user/student01/lab'}
    assert result['server_url'] == '/user/student01/' and result['stopped'] is True


def test_launch_redirected_off_the_hub_is_refused(hub, tmp_path, capsys):
    FakeHub.launch_location = 'https://evil.example.org/hub/home'
    result, failed = run_module(capsys, **base_args(hub, tmp_path))
    assert failed
    assert result['msg'] == 'the hub refused the launch: HTTP 302 (redirect to https://evil.example.org/hub/home)'
    assert result['status'] == 302 and result['changed'] is False
    assert [s['path'] for s in result['steps']] == ['/hub/lti/launch']  # no spawn after a refusal


def test_failed_spawn_fails_naming_the_user(hub, tmp_path, capsys):
    FakeHub.spawn_status = 500
    result, failed = run_module(capsys, **base_args(hub, tmp_path))
    assert failed
    assert result['msg'] == 'GET /hub/spawn as student01 failed: HTTP 500'
    assert result['changed'] is True  # the launch logged the user in
    assert FakeHub.polls == 0 and 'server_url' not in result


def test_refused_stop_warns_and_reports_the_status(hub, tmp_path, capsys):
    FakeHub.stop_status = 403  # a token without delete:servers
    result, failed = run_module(capsys, **base_args(hub, tmp_path))
    assert not failed, result
    assert result['stopped'] is False and result['stop_status'] == 403
    # ansible-core 2.19 wraps each warning in a summary object; older ones give the text.
    assert len(result['warnings']) == 1
    assert ('the hub did not stop the server of student01: HTTP 403 (the token needs delete:servers)'
            in json.dumps(result['warnings']))


def test_engine_socket_that_is_no_engine_fails_naming_it(hub, tmp_path, capsys):
    not_an_engine = tmp_path / 'docker.sock'
    not_an_engine.write_text('a file where the socket should be')
    result, failed = run_module(capsys, **base_args(hub, tmp_path, engine_socket=str(not_an_engine)))
    assert failed
    assert result['msg'].startswith('cannot inspect containers through %s: ' % not_an_engine)
    assert '(ssh: ' not in result['msg'] and 'tunnel' not in result and 'container' not in result


# ---------------------------------------------------------------- Moodle's SSH tunnel

TUNNEL_PASSWORD = 'tunnel-pa55-word'

# Test double of OpenSSH's ssh client: records its argv, gets the password the way ssh does
# (runs $SSH_ASKPASS with a prompt), refuses a wrong one like sshd does (exit 255, "Permission
# denied"), else serves -L LOCAL by proxying each connection to the engine socket REMOTE maps to,
# until it is terminated. Like ssh, it does not remove LOCAL when it dies.
FAKE_SSH = r"""#!%(python)s
import json, os, socket, socketserver, subprocess, sys, threading

argv = sys.argv[1:]
with open(%(record)r, 'w') as record:
    json.dump({'argv': argv, 'pid': os.getpid(), 'askpass': os.environ.get('SSH_ASKPASS'),
               'askpass_require': os.environ.get('SSH_ASKPASS_REQUIRE')}, record)
if any(arg.startswith('-') and 'f' in arg[1:] for arg in argv):
    sys.exit('fake ssh: refuses -f (the module must own the process)')
local, remote = argv[argv.index('-L') + 1].split(':')
destination = argv[-1]
answer = subprocess.run([os.environ['SSH_ASKPASS'], destination + "'s password: "],
                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL).stdout.decode()
if os.environ.get('SSH_ASKPASS_REQUIRE') != 'force' or answer != %(password)r + '\n':
    sys.stderr.write(destination + ': Permission denied (password,keyboard-interactive).\n')
    sys.exit(255)
target = %(remotes)r.get(remote)


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Forward(socketserver.BaseRequestHandler):
    def handle(self):
        if target is None:
            sys.stderr.write('channel 2: open failed: connect failed: No such file or directory\n')
            sys.stderr.flush()
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(target)
        back = threading.Thread(target=pump, args=(upstream, self.request))
        back.start()
        pump(self.request, upstream)
        back.join()
        upstream.close()


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


Server(local, Forward).serve_forever()
"""


@pytest.fixture
def fake_ssh(tmp_path, engine_socket, monkeypatch):
    """Put the OpenSSH test double first on PATH; return the file where it records its run."""
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    record = tmp_path / 'fake-ssh.json'
    script = bindir / 'ssh'
    script.write_text(FAKE_SSH % {'python': sys.executable, 'record': str(record), 'password': TUNNEL_PASSWORD,
                                  'remotes': {'/var/run/docker.sock': engine_socket,
                                              '/var/run/podman/podman.sock': engine_socket}})
    script.chmod(0o755)
    monkeypatch.setenv('PATH', '%s%s%s' % (bindir, os.pathsep, os.environ['PATH']))
    return record


def tunnel_args(url, tmp_path, **extra):
    args = base_args(url, tmp_path, tunnel_host='hub.example.org', tunnel_port=2222, tunnel_user='docker',
                     tunnel_password=TUNNEL_PASSWORD, tunnel_local_socket=str(tmp_path / 'lticontainer_hub.sock'))
    args.update(extra)
    return args


def assert_tunnel_gone(record, local_socket):
    run = json.loads(record.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(run['pid'], 0)  # terminated and reaped
    assert not os.path.exists(local_socket)
    assert not os.path.exists(os.path.dirname(run['askpass']))
    return run


def test_tunnel_inspects_and_lists_through_ssh(hub, tmp_path, fake_ssh, capsys):
    local = str(tmp_path / 'lticontainer_hub.sock')
    # engine_socket does not exist here: the container is seen through the tunnel only.
    result, failed = run_module(capsys, **tunnel_args(hub, tmp_path))
    assert not failed, result
    assert result['container']['name'] == 'jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01'
    assert result['container']['cpu_limit'] == 0.5
    assert result['tunnel'] == {
        'ok': True, 'host': 'hub.example.org', 'port': 2222, 'user': 'docker',
        'remote_socket': '/var/run/docker.sock', 'local_socket': local,
        'images': ['lticontainer-singleuser:abc', 'lticontainer-singleuser:latest', 'jupyterhub/jupyterhub:4.1.6'],
        'containers': ['other', 'jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01',
                       'jupyterhub-42-1-moodle.example.org-1a2b3c4d-student02'],
        'volumes': ['lms_vol_task_42_moodle.example.org', 'lms_sub_submit_42_moodle.example.org'],
    }
    assert result['stopped'] is True
    assert TUNNEL_PASSWORD not in json.dumps(result)
    run = assert_tunnel_gone(fake_ssh, local)
    assert run['argv'][-1] == 'docker@hub.example.org'
    assert run['argv'][run['argv'].index('-L') + 1] == local + ':/var/run/docker.sock'
    assert run['argv'][run['argv'].index('-p') + 1] == '2222'
    assert run['askpass_require'] == 'force'
    assert not any(TUNNEL_PASSWORD in arg for arg in run['argv'])


def test_tunnel_podman_socket_and_stale_local_socket(hub, tmp_path, fake_ssh, capsys):
    local = tmp_path / 'lticontainer_hub.sock'
    local.write_text('left over by a killed tunnel')
    result, failed = run_module(capsys, **tunnel_args(
        hub, tmp_path, tunnel_remote_socket='/var/run/podman/podman.sock', stop_server=False))
    assert not failed, result
    assert result['tunnel']['ok'] and result['tunnel']['remote_socket'] == '/var/run/podman/podman.sock'
    assert 'lticontainer-singleuser:latest' in result['tunnel']['images']
    run = assert_tunnel_gone(fake_ssh, str(local))
    assert run['argv'][run['argv'].index('-L') + 1] == str(local) + ':/var/run/podman/podman.sock'


def test_tunnel_wrong_password_fails_before_the_launch(hub, tmp_path, fake_ssh, capsys):
    started = time.monotonic()
    result, failed = run_module(capsys, **tunnel_args(hub, tmp_path, tunnel_password='not-the-tunnel-password'))
    assert failed
    assert time.monotonic() - started < 10
    assert result['msg'].startswith('the SSH tunnel to docker@hub.example.org:2222 failed: ')
    assert 'Permission denied' in result['msg']
    assert 'not-the-tunnel-password' not in json.dumps(result)
    assert result['tunnel']['ok'] is False and 'images' not in result['tunnel']
    assert FakeHub.launches == []  # nothing was launched
    assert_tunnel_gone(fake_ssh, str(tmp_path / 'lticontainer_hub.sock'))


def test_tunnel_closed_when_the_launch_fails(hub, tmp_path, fake_ssh, capsys):
    result, failed = run_module(capsys, **tunnel_args(hub, tmp_path, consumer_secret='not-the-secret'))
    assert failed and result['status'] == 401
    assert result['tunnel']['ok'] is True  # the tunnel itself was fine
    assert_tunnel_gone(fake_ssh, str(tmp_path / 'lticontainer_hub.sock'))


def test_tunnel_without_engine_behind_it_fails_naming_ssh_error(hub, tmp_path, fake_ssh, capsys):
    result, failed = run_module(capsys, **tunnel_args(hub, tmp_path, tunnel_remote_socket='/run/no/engine.sock'))
    assert failed
    assert result['msg'].startswith('cannot inspect containers through ')
    assert 'open failed' in result['msg']  # what ssh said about the remote socket
    assert result['tunnel']['ok'] is False
    assert_tunnel_gone(fake_ssh, str(tmp_path / 'lticontainer_hub.sock'))


def test_tunnel_password_required_with_tunnel_host(hub, tmp_path, capsys):
    args = tunnel_args(hub, tmp_path)
    del args['tunnel_password']
    result, failed = run_module(capsys, **args)
    assert failed and 'tunnel_password' in result['msg']
    assert FakeHub.launches == []


class StepFailed(Exception):
    """What fail_json does to a step: it ends it."""


def step_fail(msg, **extra):
    raise StepFailed(msg, extra)


class DeadTunnel(object):
    """A tunnel whose far end stopped answering after the inspection: nothing accepts on its local
    socket any more, and ssh said why."""
    destination = 'docker@hub.example.org:22'

    def __init__(self, local_socket):
        self.local_socket = local_socket

    def stderr(self):
        return 'channel 3: open failed: connect failed: Connection refused'


def test_listing_failure_through_the_tunnel_marks_it_not_ok(tmp_path):
    # The whole flow cannot get here: its engine answers the listing whenever it answered the inspection.
    result = {'tunnel': {'ok': True}}
    with pytest.raises(StepFailed) as err:
        lti_launch.list_through_tunnel(DeadTunnel(str(tmp_path / 'gone.sock')), result, step_fail)
    msg = err.value.args[0]
    assert msg.startswith('cannot list images, containers and volumes through the SSH tunnel to '
                          'docker@hub.example.org:22: ')
    assert msg.endswith(' (ssh: channel 3: open failed: connect failed: Connection refused)')
    assert result['tunnel']['ok'] is False
