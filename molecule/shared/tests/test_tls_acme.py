"""Certificates from an ACME CA: the tls role orders the hub's certificate from pebble (Debian's
ACME test server, a real RFC 8555 CA) with the http-01 challenge, and the proxy serves it at once;
a second converge asks the CA nothing and changes nothing; a certificate near its expiry is
ordered again and served; the inventory's self-signed certificate then comes back. A student's
server keeps running throughout. On the first hub only; pebble runs in the Moodle stand-in (its
image has Debian's pebble), its mock DNS resolving the hub's name to the hub.

Runs after test_hub.py: on a firewalld hub it checks that acme opens 80/tcp, which os_base does not
close again when the hub goes back to a self-signed certificate (it closes nothing it no longer
lists), so this module closes it itself at the end."""
import datetime
import hashlib
import json
import os
import re
import socket
import ssl
import subprocess

import pytest
import testinfra
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from classroom import wait_for_hub
from conftest import INVENTORY, PROJECT, hub_hosts, moodle_hosts, playbook
from pebble import Pebble
from test_term import hub_url
# test_tls.py's site.yml run on one hub, and its student (a server of its own in this module).
from test_tls import converge, student  # noqa: F401 (student is a fixture)

testinfra_hosts = hub_hosts()[:1]
CERT, KEY = '/etc/ssl/certs/jupyterhub.crt', '/etc/ssl/private/jupyterhub.key'
ACME_DIR = '/var/lib/lticontainer-acme'
# What openssl s_client said of the served chain, kept for the record.
S_CLIENT = os.path.join(PROJECT, '.cache', 'tls-acme', 's_client.txt')
NAME = 'hub1.classroom.test'


def address(host):
    return host.ansible('setup', 'gather_subset=network')['ansible_facts']['ansible_default_ipv4']['address']


@pytest.fixture(scope='module')
def pebble(host, tmp_path_factory):
    moodle = testinfra.get_host('ansible://%s?ansible_inventory=%s' % (moodle_hosts()[0], INVENTORY))
    server = Pebble(moodle, address(moodle), address(host), str(tmp_path_factory.mktemp('pebble') / 'ca.pem')).start()
    yield server
    server.stop()


def converge_acme(host, pebble, *args, **overrides):
    settings = dict(tls_source='acme', tls_acme_directory=pebble.directory, tls_acme_email='hub-admin@example.org',
                    tls_acme_terms_agreed=True, tls_acme_names=[NAME], tls_acme_ca_bundle=pebble.ca_file)
    return converge(host, '-e', json.dumps(dict(settings, **overrides)), *args)


def changed(run, host):
    recap = re.search(r'^%s\s+: ok=\d+\s+changed=(\d+)' % re.escape(host.backend.get_hostname()), run.stdout, re.M)
    return int(recap.group(1))


def served(host, root_pem):
    """(sha256, issuer CN) of what the proxy serves for NAME, checked against pebble's root only."""
    context = ssl.create_default_context(cadata=root_pem)
    with socket.create_connection((address(host), 443), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname=NAME) as tls:
            der = tls.getpeercert(binary_form=True)
            issuer = dict(field[0] for field in tls.getpeercert()['issuer'])['commonName']
    return hashlib.sha256(der).hexdigest(), issuer


def s_client(host, root_pem, tmp_path):
    """openssl s_client's account of the chain served for NAME, verified against pebble's root only."""
    root = tmp_path / 'pebble-root.pem'
    root.write_text(root_pem)
    out = subprocess.run(['openssl', 's_client', '-connect', '%s:443' % address(host), '-servername', NAME,
                          '-CAfile', str(root), '-verify_return_error'],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False)
    os.makedirs(os.path.dirname(S_CLIENT), exist_ok=True)
    with open(S_CLIENT, 'w', encoding='utf-8') as f:
        f.write(out.stderr + out.stdout)
    return out.stdout


def on_host(host):
    """(sha256, certificate) of the first certificate in the file the proxy serves (the chain follows it)."""
    cert = x509.load_pem_x509_certificate(host.file(CERT).content)
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(), cert


def test_a_certificate_is_ordered_with_http01_and_served(host, pebble, student, tmp_path):
    run = converge_acme(host, pebble)
    assert 'Ordering a certificate for %s' % NAME in run.stdout and 'Restarting JupyterHub' in run.stdout
    wait_for_hub(hub_url(host))
    sha, issuer = served(host, pebble.root())
    assert issuer.startswith('Pebble Intermediate CA') and sha == on_host(host)[0]
    chain = s_client(host, pebble.root(), tmp_path)
    assert 'Verify return code: 0 (ok)' in chain and re.search(r'^ *i:.*CN ?= ?Pebble Intermediate CA', chain, re.M)
    assert pebble.requests('/order-plz') == 1
    # The responder answered on port 80 while the order was pending, and only then.
    assert not host.service('lticontainer-acme-http01').is_running
    assert not host.socket('tcp://0.0.0.0:80').is_listening and not host.socket('tcp://:::80').is_listening
    assert 'GET /.well-known/acme-challenge/' in host.check_output('journalctl -u lticontainer-acme-http01 --no-pager')
    # Keys for root only.
    for path, mode in ((ACME_DIR, 0o700), (ACME_DIR + '/account.key', 0o600), (KEY, 0o600)):
        assert host.file(path).user == 'root' and host.file(path).mode == mode, path
    if host.ansible.get_variables().get('os_base_firewall') == 'firewalld':
        assert '80/tcp' in host.check_output('firewall-cmd --list-ports').split()
    assert student.status()[0] == 200


def test_a_valid_certificate_asks_the_ca_nothing_and_changes_nothing(host, pebble):
    before = (pebble.requests('/sign-me-up'), pebble.requests('/order-plz'), served(host, pebble.root()))
    run = converge_acme(host, pebble)
    assert changed(run, host) == 0, run.stdout[-3000:]
    assert 'Ordering' not in run.stdout and 'Restarting JupyterHub' not in run.stdout
    assert (pebble.requests('/sign-me-up'), pebble.requests('/order-plz'), served(host, pebble.root())) == before


def test_a_certificate_near_its_expiry_is_ordered_again_and_served(host, pebble, student):
    before, cert = on_host(host)
    left = (cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days
    # Renewed within more days than the certificate has left, with the tags a scheduled renewal uses.
    run = converge_acme(host, pebble, '--tags', 'tls,jupyterhub', tls_acme_renew_days=left + 1)
    assert 'because it expires within tls_acme_renew_days' in run.stdout and 'Restarting JupyterHub' in run.stdout
    wait_for_hub(hub_url(host))
    sha, issuer = served(host, pebble.root())
    assert sha == on_host(host)[0] != before and issuer.startswith('Pebble Intermediate CA')
    assert pebble.requests('/order-plz') == 2
    assert student.status()[0] == 200


def test_the_inventory_s_self_signed_certificate_comes_back(host, student):
    converge(host)
    wait_for_hub(hub_url(host))
    sha, cert = on_host(host)
    assert cert.issuer == cert.subject
    plain = ssl.get_server_certificate((address(host), 443))
    assert hashlib.sha256(ssl.PEM_cert_to_DER_cert(plain)).hexdigest() == sha
    assert student.status()[0] == 200
    if host.ansible.get_variables().get('os_base_firewall') == 'firewalld':
        host.check_output('firewall-cmd --permanent --remove-port=80/tcp && firewall-cmd --reload')


@pytest.mark.parametrize('settings, named', [
    ({}, ['tls_acme_email', 'tls_acme_terms_agreed']),
    ({'tls_acme_email': 'hub-admin@example.org', 'tls_acme_terms_agreed': True,
      'tls_acme_names': ['hub1.classroom.test', '192.0.2.7', '*.classroom.test']},
     ['tls_acme_names', '192.0.2.7', '*.classroom.test']),
    # A firewall that lists its ports without 80/tcp would keep the CA out.
    ({'tls_acme_email': 'hub-admin@example.org', 'tls_acme_terms_agreed': True, 'tls_acme_names': [NAME],
      'os_base_firewall': 'ufw', 'os_base_firewall_ports': ['22/tcp', '443/tcp']}, ['os_base_firewall_ports', '80/tcp']),
])
def test_acme_settings_are_checked_before_anything_changes(host, settings, named):
    run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(), '--tags', 'preflight',
                   '-e', json.dumps(dict(settings, tls_source='acme')))
    output = run.stdout + run.stderr
    assert run.returncode != 0 and 'Check each role' in run.stdout
    assert all(name in output for name in named), output[-3000:]
    assert re.search(r'changed=0\s', run.stdout)
