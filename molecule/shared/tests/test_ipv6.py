"""A dual-stack hub: the scenario puts it and the Moodle stand-in on a network with IPv6
(molecule/multihub/molecule.yml) and its proxy on :: (jupyterhub_proxy_ip_addr). From the
Moodle stand-in, over IPv6: verify.yml's launch to https://[ADDRESS]:443, the certificate the
proxy serves there, the guard of the hub API and the tunnel user's address rules."""
import ipaddress
import os
import re
import socket
import subprocess

import pytest
import testinfra

from conftest import INVENTORY, hub_hosts, moodle_hosts, playbook
from test_security import tunnel_user

testinfra_hosts = hub_hosts()
PASSWORD = os.environ['MOLECULE_TUNNEL_PASSWORD']
SSH = ('ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no '
       '-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10')
# A Python one-liner the stand-in runs: how a TCP connection to (ADDRESS, PORT) ends.
CONNECT = ('import socket\ntry:\n    socket.create_connection((%r, %d), 5).close()\n    print("connected")\n'
           'except OSError as exc:\n    print(type(exc).__name__)\n')


@pytest.fixture(scope='module')
def moodle():
    return testinfra.get_host('ansible://%s?ansible_inventory=%s' % (moodle_hosts()[0], INVENTORY))


@pytest.fixture(scope='module')
def ipv6(host):
    """The hub's IPv6 address, on a hub the inventory makes dual-stack."""
    if host.ansible.get_variables().get('jupyterhub_proxy_ip_addr') != '::':
        pytest.skip('not a dual-stack hub')
    facts = host.ansible('setup', 'gather_subset=network')['ansible_facts']
    address = facts.get('ansible_default_ipv6', {}).get('address')
    assert address and ipaddress.ip_address(address).version == 6, facts.get('ansible_default_ipv6')
    return address


def test_the_proxy_serves_both_families_and_the_hub_api_stays_on_ipv4(host, ipv6):
    assert host.socket('tcp://:::443').is_listening
    ipv4 = host.ansible('setup', 'gather_subset=network')['ansible_facts']['ansible_default_ipv4']['address']
    assert host.socket('tcp://%s:8081' % ipv4).is_listening
    local = host.ansible('setup', 'gather_subset=!all,local')['ansible_facts']['ansible_local']['lticontainer_hub']
    assert local['urls'] == ['https://%s:443' % ipv4, 'https://[%s]:443' % ipv6]


def test_verify_launched_a_student_over_ipv6_from_moodle(host, ipv6, launch_report):
    """verify.yml's launch at the hub's IPv6 URL, from the Moodle stand-in, checked against the
    hub's certificate (verify_trust_hub_cert): the server came up and was stopped."""
    report = launch_report[host.backend.get_hostname()]
    over_ipv6 = [launch for launch in report['other_urls'] if launch['url'] == 'https://[%s]:443' % ipv6]
    assert len(over_ipv6) == 1, report['other_urls']
    launch = over_ipv6[0]
    print('IPv6 launch: %(url)s %(user)s HTTP %(status)s, ready in %(launch_to_ready_seconds)s s' % launch)
    assert launch['status'] == 302
    assert launch['server_url'] == '/user/%s/' % launch['user']
    assert launch['launch_to_ready_seconds'] > 0
    assert launch['stopped'] is True


def test_the_certificate_served_over_ipv6_names_the_address(host, ipv6, moodle):
    pem = moodle.check_output('python3 -c %s', "import ssl; print(ssl.get_server_certificate((%r, 443)))" % ipv6)
    sans = moodle.check_output('echo %s | openssl x509 -noout -ext subjectAltName', pem)
    print('certificate served at [%s]:443: %s' % (ipv6, ' '.join(sans.split())))
    # openssl writes an IPv6 address in full, upper case.
    addresses = [ipaddress.ip_address(a) for a in re.findall(r'IP Address:([0-9A-Fa-f:.]+)', sans)]
    assert ipaddress.ip_address(ipv6) in addresses, sans


def test_the_hub_api_port_is_guarded_over_ipv6(host, ipv6, moodle):
    """The guard is an inet table: a listener on the hub API's port at the IPv6 address (the hub
    API itself is on IPv4 here) is refused to Moodle, and reached once the guard is down."""
    assert 'table inet lticontainer_hub' in host.check_output('nft list tables')
    host.check_output('systemd-run --unit lticontainer-test-v6-listener python3 -c %s',
                      'import socket, time\ns = socket.socket(socket.AF_INET6)\ns.bind((%r, 8081))\ns.listen()\n'
                      'time.sleep(300)' % ipv6)
    try:
        assert moodle.check_output('python3 -c %s', CONNECT % (ipv6, 8081)) == 'ConnectionRefusedError'
        host.check_output('systemctl stop lticontainer-hub-guard')
        try:
            assert moodle.check_output('python3 -c %s', CONNECT % (ipv6, 8081)) == 'connected'
        finally:
            host.check_output('systemctl start lticontainer-hub-guard')
        assert moodle.check_output('python3 -c %s', CONNECT % (ipv6, 8081)) == 'ConnectionRefusedError'
    finally:
        host.run('systemctl stop lticontainer-test-v6-listener')


def test_moodle_opens_the_tunnel_over_ipv6(host, ipv6, moodle):
    """sshd's Match Address holds the stand-in's IPv6 address: the tunnel to the bare address works."""
    sock = '/tmp/lticontainer-v6-test.sock'
    moodle.run('rm -f %s' % sock)
    moodle.check_output("printf '#!/bin/sh\\necho \"$TUNNEL_PW\"\\n' > /tmp/askpass-v6 && chmod 700 /tmp/askpass-v6")
    remote = host.ansible('setup', 'gather_subset=!all,local')['ansible_facts']['ansible_local']['lticontainer_tunnel']['socket']
    opened = moodle.run('TUNNEL_PW=%s SSH_ASKPASS=/tmp/askpass-v6 SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid ' + SSH
                        + ' -fNL %s:%s %s@%s </dev/null', PASSWORD, sock, remote, tunnel_user(host), ipv6)
    assert opened.rc == 0, opened.stderr
    try:
        assert moodle.run('docker -H unix://%s ps' % sock).rc == 0
    finally:
        moodle.run('pkill -f "L %s"' % sock)


def test_the_tunnel_user_is_refused_from_another_ipv6_address(host, ipv6):
    """From the controller, the network's IPv6 gateway (not a Moodle address), the right password
    is refused by the Match Address rules (DenyUsers)."""
    route = subprocess.run(['ip', '-6', 'route', 'get', ipv6], capture_output=True, text=True, check=False)
    if route.returncode != 0 or ' src ' not in route.stdout:
        pytest.skip('the controller has no IPv6 route to the hub: %s' % route.stderr.strip())
    with socket.create_connection((ipv6, 22), 5):
        pass  # sshd answers over IPv6: what follows is its refusal, not a network failure
    since = host.check_output('date +%s')
    askpass = '/tmp/lticontainer-v6-askpass'
    with open(askpass, 'w', encoding='utf-8') as handle:
        handle.write('#!/bin/sh\necho "$TUNNEL_PW"\n')
    os.chmod(askpass, 0o700)
    env = dict(os.environ, TUNNEL_PW=PASSWORD, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE='force', DISPLAY=':0')
    refused = subprocess.run(SSH.split() + ['-N', '%s@%s' % (tunnel_user(host), ipv6)], env=env,
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                             start_new_session=True, check=False)
    assert refused.returncode == 255 and 'Permission denied' in refused.stderr, refused
    log = host.check_output('journalctl --since @%s --no-pager -t sshd -t sshd-session', since)
    assert re.search(r'User \S+ from [0-9a-f:]+ not allowed because listed in DenyUsers', log), log


@pytest.mark.parametrize('variable, value, why', [
    ('tunnel_user_moodle_addresses', '["2001:db8::10", "0::/0"]', 'matches every address'),
    ('jupyterhub_proxy_ip_addr', '"[2001:db8::10]"', 'is not an IPv4 or IPv6 address'),
    ('os_base_container_networks', '["fd00::/129"]', 'is not an IPv4 or IPv6 address or CIDR network'),
])
def test_the_checks_name_a_bad_ipv6_value(host, ipv6, variable, value, why):
    run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(), '--tags', 'preflight',
                   '-e', '{"%s": %s}' % (variable, value))
    assert run.returncode != 0
    # The result's YAML may fold and quote the message: compare it with whitespace collapsed.
    output = ' '.join((run.stdout + run.stderr).split())
    assert variable + ':' in output and why in output, run.stdout[-3000:]
