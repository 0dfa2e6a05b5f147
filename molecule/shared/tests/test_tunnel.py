"""Moodle's SSH socket tunnel, from the Moodle stand-in, exactly as mod_lticontainer does it:
password through SSH_ASKPASS, a Unix socket forwarded to the engine's socket, the docker CLI."""
import os
import re
import shlex

import pytest
import testinfra

from conftest import INVENTORY, hub_hosts, moodle_hosts

testinfra_hosts = moodle_hosts()
IMAGE = os.environ['MOLECULE_SINGLEUSER_IMAGE']
PASSWORD = os.environ['MOLECULE_TUNNEL_PASSWORD']
SSH = ('ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no '
       '-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 -o ServerAliveInterval=120 -o ServerAliveCountMax=3')


@pytest.fixture(scope='module', params=hub_hosts())
def hub(request):
    """(address, tunnel user, remote engine socket, testinfra host) of each hub."""
    hub_host = testinfra.get_host('ansible://%s?ansible_inventory=%s' % (request.param, INVENTORY))
    facts = hub_host.ansible('setup', 'gather_subset=network')['ansible_facts']
    if hub_host.file('/run/podman/podman.sock').exists:
        return facts['ansible_default_ipv4']['address'], 'podman', '/var/run/podman/podman.sock', hub_host
    return facts['ansible_default_ipv4']['address'], 'docker', '/var/run/docker.sock', hub_host


def ssh(host, args, password=PASSWORD, ssh=SSH):
    """Run ssh on the Moodle stand-in, the password fed through SSH_ASKPASS like Moodle; each
    password it asks for is counted in /tmp/askpass.count."""
    host.run("printf '#!/bin/sh\\necho x >> /tmp/askpass.count\\necho \"$TUNNEL_PW\"\\n' > /tmp/askpass"
             " && chmod 700 /tmp/askpass && rm -f /tmp/askpass.count")
    return host.run('TUNNEL_PW=%s SSH_ASKPASS=/tmp/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid %s %s </dev/null'
                    % (shlex.quote(password), ssh, args))


def test_moodle_lists_images_containers_and_volumes(host, hub, launch_report):
    address, user, remote, _hub_host = hub
    sock = '/tmp/lticontainer_%s.sock' % address
    host.run('rm -f %s' % sock)
    opened = ssh(host, '-fNL %s:%s %s@%s' % (sock, remote, user, address))
    assert opened.rc == 0, opened.stderr
    try:
        images = host.check_output('docker -H unix://%s images --format "{{.Repository}}:{{.Tag}}"' % sock)
        assert IMAGE in [re.sub(r'^localhost/', '', image) for image in images.split()]
        assert host.run('docker -H unix://%s ps -a' % sock).rc == 0
        volumes = host.check_output('docker -H unix://%s volume ls --format "{{.Name}}"' % sock).split()
        assert any(v.startswith('lms_vol_task_') for v in volumes)
    finally:
        host.run('pkill -f "L %s"' % sock)


def test_tunnel_user_gets_no_shell(host, hub):
    address, user, _remote, _hub_host = hub
    session = ssh(host, '%s@%s id' % (user, address))
    assert session.rc != 0
    assert 'uid=' not in session.stdout
    assert 'not available' in session.stdout + session.stderr


def test_tunnel_user_cannot_forward_tcp(host, hub):
    address, user, _remote, _hub_host = hub
    ssh(host, '-fN -o ExitOnForwardFailure=yes -E /tmp/tcp-forward.log -L 127.0.0.1:18081:%s:8081 %s@%s'
        % (address, user, address))
    try:
        # The hub API answers on that port (the containers use it), but not through the tunnel user.
        answer = host.run('python3 -c "import socket; s = socket.create_connection((\'127.0.0.1\', 18081), 5); '
                          's.sendall(b\'GET /hub/health HTTP/1.0\\r\\n\\r\\n\'); print(repr(s.recv(100)))"')
        assert 'HTTP/' not in answer.stdout
        assert 'open failed' in host.file('/tmp/tcp-forward.log').content_string
    finally:
        host.run('pkill -f "L 127.0.0.1:18081"')


def test_wrong_tunnel_password_is_refused(host, hub):
    address, user, remote, _hub_host = hub
    refused = ssh(host, '-NL /tmp/wrong.sock:%s %s@%s' % (remote, user, address), password='not-the-password')
    assert refused.rc == 255
    assert 'Permission denied' in refused.stderr


def test_tunnel_password_attempts_are_limited(host, hub):
    address, user, remote, _hub_host = hub
    # ssh would ask ten times; sshd ends the connection after tunnel_user_max_auth_tries (3).
    refused = ssh(host, '-NL /tmp/wrong.sock:%s %s@%s' % (remote, user, address), password='not-the-password',
                  ssh=SSH.replace('NumberOfPasswordPrompts=1', 'NumberOfPasswordPrompts=10'))
    assert refused.rc == 255
    assert 'Too many authentication failures' in refused.stderr, refused.stderr
    assert len(host.file('/tmp/askpass.count').content_string.split()) == 3


def test_tunnel_user_may_not_log_in_with_a_key(host, hub):
    address, user, remote, hub_host = hub
    host.run('rm -f /tmp/tunnel-key /tmp/tunnel-key.pub')
    host.check_output("ssh-keygen -q -t ed25519 -N '' -f /tmp/tunnel-key")
    home = hub_host.user(user).home
    # As if someone with the tunnel user's rights on the host had added a key.
    key = host.file('/tmp/tunnel-key.pub').content_string.strip()
    hub_host.check_output('install -d -o %s -m 700 %s/.ssh && install -o %s -m 600 /dev/stdin %s/.ssh/authorized_keys'
                          ' <<EOF\n%s\nEOF' % (user, home, user, home, key))
    try:
        keyed = host.run('ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes '
                         '-o IdentitiesOnly=yes -i /tmp/tunnel-key -o ConnectTimeout=10 -NL /tmp/key.sock:%s %s@%s'
                         % (remote, user, address))
        assert keyed.rc == 255
        assert 'Permission denied (password)' in keyed.stderr, keyed.stderr
    finally:
        hub_host.run('rm -rf %s/.ssh' % home)
