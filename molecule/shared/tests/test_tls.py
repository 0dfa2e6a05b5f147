"""Certificates through a term: a self-signed certificate near its expiry is made again, and
certificate files from the inventory are installed; either way the proxy serves the new one
without a manual step while a student's server keeps running. On the first hub only."""
import datetime
import hashlib
import ipaddress
import json
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from classroom import Student, wait_for_hub
from conftest import hub_hosts, playbook
from test_term import hub_url

testinfra_hosts = hub_hosts()[:1]
CERT, KEY = '/etc/ssl/certs/jupyterhub.crt', '/etc/ssl/private/jupyterhub.key'


def der_sha256(pem):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def served(url):
    """sha256 of the certificate the hub's proxy serves."""
    host, port = url.split('//')[1].rsplit(':', 1)
    return der_sha256(ssl.get_server_certificate((host.strip('[]'), int(port))))


def pem_sha256(host):
    return der_sha256(host.file(CERT).content_string)


@pytest.fixture(scope='module')
def student(host):
    student = Student(hub_url(host), 'tlsstudent', 43)
    student.launch()
    student.open_server()
    yield student
    student.stop()


def converge(host, *args):
    run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(), *args)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run


def test_a_certificate_near_its_expiry_is_renewed_and_served(host, student):
    url = hub_url(host)
    before = served(url)
    assert before == pem_sha256(host)
    # The certificate (825 days) expires within the 900 days asked for: it is made again.
    run = converge(host, '-e', 'tls_selfsigned_days=1000', '-e', 'tls_selfsigned_renew_days=900')
    assert 'Restarting JupyterHub' in run.stdout
    wait_for_hub(url)
    assert served(url) == pem_sha256(host) != before
    assert student.status()[0] == 200
    # Valid for 1000 days now, far from 30: the inventory's values find nothing to renew.
    again = converge(host)
    assert 'Restarting JupyterHub' not in again.stdout and served(url) == pem_sha256(host)


def certificate_names(host):
    """The served certificate's subjectAltName entries, as tls_subject_alt_names writes them."""
    cert = x509.load_pem_x509_certificate(host.file(CERT).content_string.encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (['DNS:%s' % name for name in sans.get_values_for_type(x509.DNSName)]
            + ['IP:%s' % address for address in sans.get_values_for_type(x509.IPAddress)])


def test_new_names_make_a_new_certificate_and_the_same_names_written_otherwise_do_not(host, student):
    url = hub_url(host)
    names, before = certificate_names(host), pem_sha256(host)
    run = converge(host, '-e', json.dumps({'tls_subject_alt_names': names + ['IP:FD00:0:0::BEEF']}))
    assert 'Restarting JupyterHub' in run.stdout
    wait_for_hub(url)
    renewed = pem_sha256(host)
    assert served(url) == renewed != before
    assert 'IP:%s' % ipaddress.ip_address('fd00::beef') in certificate_names(host)
    # The same names, the address written in its canonical form: nothing is made again, nothing restarts.
    again = converge(host, '-e', json.dumps({'tls_subject_alt_names': names + ['IP:fd00::beef']}))
    assert 'Restarting JupyterHub' not in again.stdout and pem_sha256(host) == renewed
    # The inventory's names: a certificate without the address again.
    converge(host)
    wait_for_hub(url)
    assert served(url) == pem_sha256(host) != renewed and sorted(certificate_names(host)) == sorted(names)
    assert student.status()[0] == 200


def test_certificate_files_from_the_inventory_are_served(host, student, tmp_path):
    url = hub_url(host)
    address = url.split('//')[1].rsplit(':', 1)[0]
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'hub.example.ac.jp')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName('hub.example.ac.jp')]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / 'hub.crt').write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = tmp_path / 'hub.key'
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    converge(host, '-e', 'tls_source=files', '-e', 'tls_cert_src=%s' % (tmp_path / 'hub.crt'),
             '-e', 'tls_key_src=%s' % key_file)
    wait_for_hub(url)
    assert served(url) == der_sha256((tmp_path / 'hub.crt').read_text())
    assert host.file(KEY).mode == 0o600 and host.file(KEY).user == 'root'
    assert student.status()[0] == 200
    # Back to the inventory's self-signed certificate (a new key, so a new certificate), served too.
    converge(host)
    wait_for_hub(url)
    assert served(url) == pem_sha256(host) != der_sha256((tmp_path / 'hub.crt').read_text())
    assert address in host.check_output('openssl x509 -in %s -noout -ext subjectAltName' % CERT)
