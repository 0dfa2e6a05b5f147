# -*- coding: utf-8 -*-
"""Unit tests of the pieces of Moodle's SSH tunnel: ssh arguments, askpass program, waiting
for the forwarded socket, and the tunnel's start and stop with a stand-in ssh."""

import os
import socket
import stat
import subprocess
import threading
import time

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils import ssh_tunnel

TUNNEL_PASSWORD = "tun'nel pa$$ \"word\" `x`"  # shell metacharacters must come out verbatim


def option_values(argv):
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == '-o']


def test_tunnel_argv_is_moodles_forward_without_f():
    argv = ssh_tunnel.tunnel_argv('/usr/bin/ssh', 'hub.example.org', 'docker',
                                  '/tmp/lticontainer_hub.example.org.sock', '/var/run/podman/podman.sock', 2222)
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
    tunnel = ssh_tunnel.SshTunnel('/usr/bin/ssh', 'hub.example.org', 'docker', TUNNEL_PASSWORD)
    assert tunnel.local_socket == '/tmp/lticontainer_hub.example.org.sock'  # Moodle's path
    assert tunnel.argv[tunnel.argv.index('-L') + 1] == '/tmp/lticontainer_hub.example.org.sock:/var/run/docker.sock'
    assert tunnel.argv[tunnel.argv.index('-p') + 1] == '22'
    assert not any(TUNNEL_PASSWORD in arg or 'pa$$' in arg for arg in tunnel.argv)


@pytest.mark.parametrize('host', ['2001:db8::10', '[2001:db8::10]'])
def test_an_ipv6_hub_is_reached_as_ssh_takes_it(host):
    tunnel = ssh_tunnel.SshTunnel('/usr/bin/ssh', host, 'docker', TUNNEL_PASSWORD)
    assert tunnel.argv[-1] == 'docker@2001:db8::10'
    # -L LOCAL:REMOTE splits at colons: the default local path has none.
    assert tunnel.local_socket == '/tmp/lticontainer_2001_db8__10.sock'
    assert tunnel.argv[tunnel.argv.index('-L') + 1] == '/tmp/lticontainer_2001_db8__10.sock:/var/run/docker.sock'
    assert tunnel.destination == 'docker@[2001:db8::10]:22'


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
        ssh_tunnel.tunnel_argv(**args)


def test_askpass_prints_the_password_from_the_environment(tmp_path):
    path = ssh_tunnel.write_askpass(str(tmp_path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    with open(path) as script:
        assert TUNNEL_PASSWORD not in script.read()  # the file only names the variable
    env = ssh_tunnel.askpass_env(path, TUNNEL_PASSWORD, base_env={'PATH': os.environ['PATH']})
    assert env['SSH_ASKPASS'] == path and env['SSH_ASKPASS_REQUIRE'] == 'force' and env['DISPLAY']
    # ssh runs the program with the prompt as its argument and reads one line from its stdout.
    out = subprocess.run([path, "docker@hub's password: "], env=env, stdout=subprocess.PIPE, check=True).stdout
    assert out == (TUNNEL_PASSWORD + '\n').encode()


def test_askpass_env_keeps_the_callers_environment():
    env = ssh_tunnel.askpass_env('/x/askpass.sh', 'pw', base_env={'PATH': '/bin', 'DISPLAY': ':5'})
    assert env['PATH'] == '/bin' and env['DISPLAY'] == ':5' and env[ssh_tunnel.ASKPASS_PASSWORD_VAR] == 'pw'


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
        ssh_tunnel.wait_for_socket(path, proc, timeout=5)
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
    with pytest.raises(ssh_tunnel.TunnelError) as err:
        ssh_tunnel.wait_for_socket(str(tmp_path / 'never.sock'), proc, timeout=10)
    assert time.monotonic() - started < 3
    assert 'Permission denied' in str(err.value)
    proc.stderr.close()


def test_wait_for_socket_times_out_when_nothing_listens(tmp_path):
    proc = subprocess.Popen(['sleep', '30'])
    try:
        started = time.monotonic()
        with pytest.raises(ssh_tunnel.TunnelError) as err:
            ssh_tunnel.wait_for_socket(str(tmp_path / 'never.sock'), proc, timeout=0.5)
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
        with pytest.raises(ssh_tunnel.TunnelError):
            ssh_tunnel.wait_for_socket(str(path), proc, timeout=0.3)
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
    tunnel = ssh_tunnel.SshTunnel(ssh, 'hub', 'docker', 's3cret-tunnel', local_socket=str(local), timeout=5)
    with pytest.raises(ssh_tunnel.TunnelError) as err:
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
        tunnel = ssh_tunnel.SshTunnel(ssh, 'hub', 'docker', 'pw', local_socket=path, timeout=2)
        with pytest.raises(ssh_tunnel.TunnelError) as err:
            tunnel.open()
        assert 'in use' in str(err.value)
        assert os.path.exists(path) and ssh_tunnel.socket_accepts(path)
        assert not (tmp_path / 'ran').exists()  # ssh was never started
    finally:
        live.close()


def test_tunnel_close_kills_an_ssh_that_ignores_sigterm(tmp_path, monkeypatch):
    monkeypatch.setattr(ssh_tunnel, 'TUNNEL_KILL_AFTER', 0.5)
    path = str(tmp_path / 'fwd.sock')
    # Listens on the local socket (via a helper python), ignores SIGTERM.
    ssh = _fake_ssh(tmp_path, 'trap "" TERM; exec python3 -c "import signal,socket,time; '
                              'signal.signal(signal.SIGTERM, signal.SIG_IGN); s=socket.socket(socket.AF_UNIX); '
                              's.bind(\'%s\'); s.listen(1); time.sleep(60)"' % path)
    tunnel = ssh_tunnel.SshTunnel(ssh, 'hub', 'docker', 'pw', local_socket=path, timeout=5).open()
    workdir = tunnel.workdir
    assert os.path.isdir(workdir) and ssh_tunnel.socket_accepts(path)
    started = time.monotonic()
    tunnel.close()
    assert time.monotonic() - started < 4
    assert tunnel.proc.returncode is not None
    assert not os.path.exists(path) and not os.path.exists(workdir)
    tunnel.close()  # idempotent
