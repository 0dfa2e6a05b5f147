# -*- coding: utf-8 -*-
"""Unit tests of the LTI helpers: signatures checked against oauthlib (an independent
OAuth 1.0a implementation, the one ltiauthenticator itself uses), launch fields and
container limit parsing from Docker inspect samples, and the pieces of Moodle's SSH tunnel
(ssh arguments, askpass program, waiting for the forwarded socket)."""

import os
import socket
import stat
import subprocess
import threading
import time
import urllib.parse

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils import lti

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
    signed = lti.sign_launch(url, params, 'moodle-key', 's3cr3t&+ü', timestamp=1700000000, nonce='abc123')
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
    ours = lti.sign_launch(url, params, 'moodle-key', 'secret', timestamp=1700000000, nonce='n0nce')
    assert ours['oauth_signature'] == expected


@pytest.mark.parametrize('url', URLS)
def test_oauthlib_server_check_accepts_and_detects_tampering(url):
    signed = lti.sign_launch(url, PARAMS[1], 'moodle-key', 'secret')
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
    ('https://hub.example.org', 'https://hub.example.org/'),
])
def test_base_string_uri_normalisation(url, expected):
    assert lti.base_string_uri(url) == expected
    assert oauth_sig.base_string_uri(url) == expected


def test_base_string_uri_rejects_non_http():
    with pytest.raises(ValueError):
        lti.base_string_uri('ftp://hub.example.org/')
    with pytest.raises(ValueError):
        lti.base_string_uri('hub.example.org/hub')


def test_each_launch_has_a_fresh_nonce_and_current_timestamp():
    one = lti.sign_launch('https://h/hub/lti/launch', {}, 'k', 's')
    two = lti.sign_launch('https://h/hub/lti/launch', {}, 'k', 's')
    assert one['oauth_nonce'] != two['oauth_nonce']
    assert abs(int(one['oauth_timestamp']) - time.time()) < 5
    assert {k for k in one if k.startswith('oauth_')} == {
        'oauth_consumer_key', 'oauth_nonce', 'oauth_signature_method', 'oauth_timestamp',
        'oauth_version', 'oauth_signature'}
    assert one['oauth_signature_method'] == 'HMAC-SHA1' and one['oauth_version'] == '1.0'


def test_launch_fields_required_and_custom_defaults():
    fields = lti.launch_fields('7', 'student01', 'Learner', '42', '3',
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
    fields = lti.launch_fields('9', '', custom={'lms_sessioninfo': '5,6'})
    assert fields['custom_lms_sessioninfo'] == '5,6'
    assert 'ext_user_username' not in fields
    assert lti.hub_user_name('', '9') == '9'
    assert lti.hub_user_name('Student01', '9') == 'student01'


def test_hub_client_redirect_scope():
    hub = lti.HubClient('https://172.17.0.2:443', validate_certs=False)
    assert hub.on_hub('/hub/home')
    assert hub.on_hub('https://172.17.0.2/hub/spawn-pending/x')  # default port written or not
    assert not hub.on_hub('/user/x/lab')
    assert hub.on_hub('/user/x/lab', ('/hub/', '/user/'))
    assert not hub.on_hub('https://other.example.org/hub/home')
    assert not hub.on_hub('http://172.17.0.2/hub/home')
    assert hub.url('/hub/spawn') == 'https://172.17.0.2:443/hub/spawn'


# Trimmed from `docker inspect` of containers DockerSpawner 14 made for LTIContainerSpawner.
INSPECT_NANOCPUS = {
    'Id': 'f00d', 'Name': '/jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01',
    'Config': {'Image': 'lticontainer-singleuser:abc', 'Env': [
        'JUPYTERHUB_USER=student01', 'JUPYTERHUB_API_TOKEN=deadbeef', 'NB_UID=30007', 'NB_USER=student01',
        'NB_GID=1000', 'NB_GROUP=others', 'NB_VOLUMES=lms_vol_task_42_moodle.example.org:task',
        'LTI_COURSE=42', 'PATH=/usr/bin', 'NB_OPTION=']},
    'HostConfig': {'NanoCpus': 500000000, 'CpuQuota': 0, 'CpuPeriod': 0, 'Memory': 268435456},
    'Mounts': [
        {'Type': 'bind', 'Source': '/home/others/student01/jupyter/works',
         'Destination': '/home/others/student01/jupyter/works'},
        {'Type': 'volume', 'Name': 'lms_vol_task_42_moodle.example.org',
         'Destination': '/home/others/student01/jupyter/works/.volumes/lms_vol_task_42_moodle.example.org'},
        {'Type': 'volume', 'Name': 'lms_sub_submit_42_moodle.example.org',
         'Destination': '/home/others/student01/jupyter/works/.volumes/lms_sub_submit_42_moodle.example.org'},
    ],
}


def test_container_limits_nanocpus():
    got = lti.container_limits(INSPECT_NANOCPUS)
    assert got['name'] == 'jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01'
    assert got['image'] == 'lticontainer-singleuser:abc'
    assert got['cpu_limit'] == 0.5
    assert got['mem_limit'] == 268435456
    assert [v['name'] for v in got['volumes']] == ['lms_vol_task_42_moodle.example.org',
                                                   'lms_sub_submit_42_moodle.example.org']
    assert got['volumes'][0]['destination'].endswith('/.volumes/lms_vol_task_42_moodle.example.org')
    assert got['env'] == {'NB_UID': '30007', 'NB_USER': 'student01', 'NB_GID': '1000', 'NB_GROUP': 'others',
                          'NB_VOLUMES': 'lms_vol_task_42_moodle.example.org:task', 'LTI_COURSE': '42',
                          'NB_OPTION': ''}


def test_container_limits_cpuquota_and_unlimited_memory():
    info = {'Name': '/c', 'Config': {'Image': 'i', 'Env': None},
            'HostConfig': {'NanoCpus': 0, 'CpuQuota': 150000, 'CpuPeriod': 100000, 'Memory': 0}, 'Mounts': None}
    got = lti.container_limits(info)
    assert got['cpu_limit'] == 1.5
    assert got['mem_limit'] is None
    assert got['volumes'] == [] and got['env'] == {}


def test_container_limits_unlimited_cpu():
    info = {'Name': '/c', 'Config': {'Image': 'i', 'Env': []},
            'HostConfig': {'NanoCpus': 0, 'CpuQuota': -1, 'CpuPeriod': 0, 'Memory': 1073741824}}
    got = lti.container_limits(info)
    assert got['cpu_limit'] is None
    assert got['mem_limit'] == 1073741824


def test_server_state():
    assert lti.server_state({'servers': {}}) == (False, None, 'no server')
    assert lti.server_state({'servers': {'': {'ready': False, 'pending': 'spawn', 'url': '/user/a/'}}})[0] is False
    assert lti.server_state({'servers': {'': {'ready': True, 'url': '/user/a/'}}}) == (True, '/user/a/', 'ready')
    assert lti.server_state(None)[0] is False



# ---------------------------------------------------------------- SSH tunnel pieces

TUNNEL_PASSWORD = "tun'nel pa$$ \"word\" `x`"  # shell metacharacters must come out verbatim


def option_values(argv):
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == '-o']


def test_tunnel_argv_is_moodles_forward_without_f():
    argv = lti.tunnel_argv('/usr/bin/ssh', 'hub.example.org', 'docker', '/tmp/lticontainer_hub.example.org.sock',
                           '/var/run/podman/podman.sock', 2222)
    assert argv[0] == '/usr/bin/ssh'
    assert argv[-1] == 'docker@hub.example.org'
    assert argv[argv.index('-L') + 1] == '/tmp/lticontainer_hub.example.org.sock:/var/run/podman/podman.sock'
    assert argv[argv.index('-p') + 1] == '2222'
    assert '-N' in argv
    flags = [arg for arg in argv[1:] if arg.startswith('-')]  # option values never start with '-'
    assert flags.count('-o') == 10 and not [f for f in flags if 'f' in f[1:]], 'ssh must stay in the foreground'
    assert set(option_values(argv)) == {
        'StrictHostKeyChecking=no', 'ServerAliveInterval=120', 'ServerAliveCountMax=3',
        'UserKnownHostsFile=/dev/null', 'ExitOnForwardFailure=yes', 'PubkeyAuthentication=no',
        'PreferredAuthentications=password,keyboard-interactive', 'NumberOfPasswordPrompts=1',
        'ConnectTimeout=10', 'LogLevel=ERROR'}


def test_tunnel_password_is_not_in_argv(tmp_path):
    tunnel = lti.SshTunnel('/usr/bin/ssh', 'hub.example.org', 'docker', TUNNEL_PASSWORD)
    assert tunnel.local_socket == '/tmp/lticontainer_hub.example.org.sock'  # Moodle's path
    assert tunnel.argv[tunnel.argv.index('-L') + 1] == '/tmp/lticontainer_hub.example.org.sock:/var/run/docker.sock'
    assert tunnel.argv[tunnel.argv.index('-p') + 1] == '22'
    assert not any(TUNNEL_PASSWORD in arg or 'pa$$' in arg for arg in tunnel.argv)


@pytest.mark.parametrize('kwargs', [
    {'host': '-oProxyCommand=touch /tmp/x'}, {'user': '-oProxyCommand=x'}, {'user': ''},
    {'host': 'hub example'}, {'local_socket': 'relative.sock'}, {'local_socket': '/tmp/a:b.sock'},
    {'remote_socket': '/var/run/docker.sock:x'}, {'port': 0}, {'port': 70000},
])
def test_tunnel_argv_rejects_what_ssh_would_misparse(kwargs):
    args = dict(ssh_bin='ssh', host='hub', user='docker', local_socket='/tmp/l.sock',
                remote_socket='/var/run/docker.sock', port=22)
    args.update(kwargs)
    with pytest.raises(ValueError):
        lti.tunnel_argv(**args)


def test_askpass_prints_the_password_from_the_environment(tmp_path):
    path = lti.write_askpass(str(tmp_path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    with open(path) as script:
        assert TUNNEL_PASSWORD not in script.read()  # the file only names the variable
    env = lti.askpass_env(path, TUNNEL_PASSWORD, base_env={'PATH': os.environ['PATH']})
    assert env['SSH_ASKPASS'] == path and env['SSH_ASKPASS_REQUIRE'] == 'force' and env['DISPLAY']
    # ssh runs the program with the prompt as its argument and reads one line from its stdout.
    out = subprocess.run([path, "docker@hub's password: "], env=env, stdout=subprocess.PIPE, check=True).stdout
    assert out == (TUNNEL_PASSWORD + '\n').encode()


def test_askpass_env_keeps_the_callers_environment():
    env = lti.askpass_env('/x/askpass.sh', 'pw', base_env={'PATH': '/bin', 'DISPLAY': ':5'})
    assert env['PATH'] == '/bin' and env['DISPLAY'] == ':5' and env[lti.ASKPASS_PASSWORD_VAR] == 'pw'


def _listen_later(path, delay):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def start():
        time.sleep(delay)
        server.bind(path)
        server.listen(5)

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    return server, thread


def test_wait_for_socket_returns_once_something_listens(tmp_path):
    path = str(tmp_path / 'fwd.sock')
    server, thread = _listen_later(path, 0.3)
    proc = subprocess.Popen(['sleep', '30'])
    try:
        started = time.monotonic()
        lti.wait_for_socket(path, proc, timeout=5)
        assert 0.25 <= time.monotonic() - started < 3
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
        thread.join()
        server.close()


def test_wait_for_socket_fails_fast_with_stderr_when_ssh_exits(tmp_path):
    proc = subprocess.Popen(['sh', '-c', 'echo "docker@hub: Permission denied (password)." >&2; exit 255'],
                            stderr=subprocess.PIPE)
    started = time.monotonic()
    with pytest.raises(lti.TunnelError) as err:
        lti.wait_for_socket(str(tmp_path / 'never.sock'), proc, timeout=10)
    assert time.monotonic() - started < 3
    assert 'Permission denied' in str(err.value)
    proc.stderr.close()


def test_wait_for_socket_times_out_when_nothing_listens(tmp_path):
    proc = subprocess.Popen(['sleep', '30'])
    try:
        started = time.monotonic()
        with pytest.raises(lti.TunnelError) as err:
            lti.wait_for_socket(str(tmp_path / 'never.sock'), proc, timeout=0.5)
        assert time.monotonic() - started < 3
        assert 'never.sock' in str(err.value)
    finally:
        proc.kill()
        proc.wait()


def test_wait_for_socket_ignores_a_file_that_does_not_accept(tmp_path):
    path = tmp_path / 'stale.sock'
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # bound, never listening: what a dead tunnel leaves behind
    stale.close()
    proc = subprocess.Popen(['sleep', '30'])
    try:
        with pytest.raises(lti.TunnelError):
            lti.wait_for_socket(str(path), proc, timeout=0.3)
    finally:
        proc.kill()
        proc.wait()


def _fake_ssh(tmp_path, body):
    """A stand-in ssh executable (test double of OpenSSH's client) running a shell body."""
    path = tmp_path / 'ssh'
    path.write_text('#!/bin/sh\n' + body + '\n')
    path.chmod(0o755)
    return str(path)


def test_tunnel_failure_reports_stderr_without_password_and_cleans_up(tmp_path):
    # An ssh that echoes the password it got back in its error: the message must not carry it.
    ssh = _fake_ssh(tmp_path, 'echo "bad: $("$SSH_ASKPASS" prompt) Permission denied" >&2; exit 255')
    local = tmp_path / 'local.sock'
    local.write_text('stale leftover')
    tunnel = lti.SshTunnel(ssh, 'hub', 'docker', 's3cret-tunnel', local_socket=str(local), timeout=5)
    with pytest.raises(lti.TunnelError) as err:
        tunnel.open()
    assert 'Permission denied' in str(err.value) and 's3cret-tunnel' not in str(err.value)
    assert not local.exists()  # the stale file was removed and nothing is left
    assert tunnel.workdir is None and tunnel.proc.poll() == 255


def test_tunnel_leaves_a_live_socket_alone(tmp_path):
    path = str(tmp_path / 'moodle.sock')
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(path)
    live.listen(1)
    try:
        ssh = _fake_ssh(tmp_path, 'touch "%s"; exit 0' % (tmp_path / 'ran'))
        tunnel = lti.SshTunnel(ssh, 'hub', 'docker', 'pw', local_socket=path, timeout=2)
        with pytest.raises(lti.TunnelError) as err:
            tunnel.open()
        assert 'in use' in str(err.value)
        assert os.path.exists(path) and lti.socket_accepts(path)
        assert not (tmp_path / 'ran').exists()  # ssh was never started
    finally:
        live.close()


def test_tunnel_close_kills_an_ssh_that_ignores_sigterm(tmp_path, monkeypatch):
    monkeypatch.setattr(lti, 'TUNNEL_KILL_AFTER', 0.5)
    path = str(tmp_path / 'fwd.sock')
    # Listens on the local socket (via a helper python), ignores SIGTERM.
    ssh = _fake_ssh(tmp_path, 'trap "" TERM; exec python3 -c "import signal,socket,time; '
                              'signal.signal(signal.SIGTERM, signal.SIG_IGN); s=socket.socket(socket.AF_UNIX); '
                              's.bind(\'%s\'); s.listen(1); time.sleep(60)"' % path)
    tunnel = lti.SshTunnel(ssh, 'hub', 'docker', 'pw', local_socket=path, timeout=5).open()
    workdir = tunnel.workdir
    assert os.path.isdir(workdir) and lti.socket_accepts(path)
    started = time.monotonic()
    tunnel.close()
    assert time.monotonic() - started < 4
    assert tunnel.proc.returncode is not None
    assert not os.path.exists(path) and not os.path.exists(workdir)
    tunnel.close()  # idempotent
