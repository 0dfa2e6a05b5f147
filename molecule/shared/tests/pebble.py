"""Pebble, Debian's ACME test server (RFC 8555), and its mock DNS (pebble-challtestsrv), run in a
container of the tests (the Moodle stand-in, whose image has Debian's `pebble`): a real ACME CA for
the tls role's http-01 orders.

The mock DNS answers every name with the hub's address, so pebble validates each challenge against
the hub's port 80. Pebble's own HTTPS gets a certificate from a CA made here for the run, the CA
the hub's ACME client is told to trust (tls_acme_ca_bundle). Pebble makes new issuing CAs each
time it starts; root() gives the one to verify the hub's certificate against.
"""
import datetime
import ipaddress
import shlex
import ssl
import time
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

WORKDIR = '/root/lticontainer-pebble'
# Real validations (no random sleeps, no rejected nonces), and no authorization reuse: every order,
# renewals included, proves its names again through the hub's port 80.
ENV = 'PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0'


def _usage(**allowed):
    flags = dict.fromkeys(('digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment',
                           'key_agreement', 'key_cert_sign', 'crl_sign', 'encipher_only', 'decipher_only'), False)
    flags.update(allowed)
    return x509.KeyUsage(**flags)


def listener_certificates(address):
    """A CA of the run, and a certificate from it for pebble's HTTPS at this address: PEM (ca, cert, key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'lticontainer.hub tests ACME server CA')])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'pebble')])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (ca.public_bytes(pem).decode(), cert.public_bytes(pem).decode(),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())


class Pebble:
    """Pebble on `host` (a testinfra host) at `address`, resolving every name to `hub_address`."""

    def __init__(self, host, address, hub_address, ca_file):
        self.host, self.address, self.hub_address, self.ca_file = host, address, hub_address, ca_file
        self.directory = 'https://%s:14000/dir' % address
        self.management = 'https://%s:15000' % address

    def _put(self, path, text):
        self.host.check_output('umask 077 && printf %%s %s > %s' % (shlex.quote(text), path))

    def start(self, timeout=30):
        ca, cert, key = listener_certificates(self.address)
        with open(self.ca_file, 'w', encoding='ascii') as f:
            f.write(ca)
        installed = self.host.run('test -x /usr/bin/pebble && test -x /usr/bin/pebble-challtestsrv')
        assert installed.rc == 0, "no Debian pebble where it runs: rebuild the Moodle stand-in's image (images/moodle-client)"
        self.host.check_output('rm -rf %s && mkdir -m 700 %s' % (WORKDIR, WORKDIR))
        self._put(WORKDIR + '/cert.pem', cert)
        self._put(WORKDIR + '/key.pem', key)
        # http-01 on port 80, as RFC 8555 says; nothing but the ACME API and the management API listen.
        self._put(WORKDIR + '/config.json', '{"pebble": {"listenAddress": "0.0.0.0:14000", '
                  '"managementListenAddress": "0.0.0.0:15000", "certificate": "%s/cert.pem", '
                  '"privateKey": "%s/key.pem", "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", '
                  '"externalAccountBindingRequired": false}}' % (WORKDIR, WORKDIR))
        # Only the mock DNS of pebble-challtestsrv, on loopback: A answers are the hub's, no AAAA.
        self.host.check_output(
            'cd %(dir)s; setsid nohup pebble-challtestsrv -defaultIPv4 %(hub)s -defaultIPv6 "" -http01 "" -https01 "" '
            '-tlsalpn01 "" -dns01 127.0.0.1:8053 -management 127.0.0.1:8055 >challtestsrv.log 2>&1 </dev/null & '
            'echo $! > challtestsrv.pid; '
            '%(env)s setsid nohup pebble -config %(dir)s/config.json -dnsserver 127.0.0.1:8053 >pebble.log 2>&1 </dev/null & '
            'echo $! > pebble.pid' % {'dir': WORKDIR, 'hub': self.hub_address, 'env': ENV})
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._get(self.directory)
                return self
            except OSError:
                assert time.monotonic() < deadline, 'pebble did not answer: %s' % self.log()
                time.sleep(0.5)

    def _get(self, url):
        context = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(url, context=context, timeout=10) as response:  # noqa: S310 (https only)
            return response.read().decode()

    def root(self):
        """PEM of the root that issues pebble's certificates (new each time pebble starts)."""
        return self._get(self.management + '/roots/0')

    def log(self):
        return self.host.run('cat %s/pebble.log' % WORKDIR).stdout

    def requests(self, path):
        """How many requests pebble logged for an ACME endpoint, for example /order-plz."""
        return sum(1 for line in self.log().splitlines() if ('POST %s ' % path) in line)

    def stop(self):
        self.host.run('kill $(cat %s/pebble.pid %s/challtestsrv.pid) 2>/dev/null; rm -rf %s' % (WORKDIR, WORKDIR, WORKDIR))
