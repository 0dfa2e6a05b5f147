"""Upstream's ltictr_proxy in place of configurable-http-proxy (lticontainerspawner_ltictr_proxy), on both
hubs of the multihub scenario (Debian 12 + Docker, Debian 13 + Podman + firewalld): a converge with it on
builds it from upstream's sources and puts it in front of the hub; a student launched through it, as
Moodle launches, reaches JupyterLab and runs a cell over the kernel's websocket (in JSON text frames, and
in JupyterLab 4's binary ones), and ltictr_proxy reports that cell to a recording HTTPS endpoint on the
Moodle stand-in, standing in for Moodle's web service (what it received goes to
.cache/ltictr-proxy/report-<hub>-<protocol>.txt). A converge with it off brings configurable-http-proxy
back while the student's server keeps running, and a second one changes nothing."""
import ipaddress
import json
import os
import re
import secrets
import shlex
import socket
import ssl
import time
import urllib.parse

import pytest
import testinfra

from classroom import Student, wait_for_hub
from conftest import INVENTORY, PROJECT, hub_hosts, moodle_hosts
from kernel import V1, KernelChannel, start_kernel
from pebble import listener_certificates
from test_term import hub_url, main_pid, routes
from test_tls import converge
from test_tls_acme import address, changed

pytestmark = pytest.mark.skipif(os.environ.get('MOLECULE_SCENARIO_NAME') != 'multihub',
                                reason='ltictr_proxy is tried on the multihub scenario only')
testinfra_hosts = hub_hosts()

CONF = '/usr/local/etc/ltictr/ltictr_proxy.conf'
UNIT = '/etc/systemd/system/jupyterhub-ltictr-proxy.service'
PROGRAMS = ('/usr/local/bin/ltictr_proxy_server', '/usr/local/bin/ltictr_api_server')
# The recording endpoint: mod_lticontainer's web service as ltictr_proxy calls it, under a Moodle at /moodle.
PORT = 8443
WORKDIR = '/root/lticontainer-nblogs'
RPCTOKEN = secrets.token_hex(16)
REPORT = os.path.join(PROJECT, '.cache', 'ltictr-proxy', 'report-%s-%s.txt')
RECORDER = '''
import http.server, json, ssl


class Record(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8", "replace")
        with open("requests.jsonl", "a") as log:
            log.write(json.dumps({"request": self.requestline, "body": body}) + "\\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"null")


server = http.server.ThreadingHTTPServer(("0.0.0.0", %d), Record)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("cert.pem", "key.pem")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
''' % PORT


class Recorder:
    """The stand-in for Moodle's web service, on the Moodle stand-in: what ltictr_proxy posts to it."""

    def __init__(self, standin):
        self.standin, self.address = standin, address(standin)
        _ca, cert, key = listener_certificates(self.address)
        standin.check_output('rm -rf %s && mkdir -m 700 %s' % (WORKDIR, WORKDIR))
        for name, text in (('cert.pem', cert), ('key.pem', key), ('recorder.py', RECORDER)):
            standin.check_output('umask 077 && printf %%s %s > %s/%s' % (shlex.quote(text), WORKDIR, name))
        standin.check_output('cd %s && setsid nohup python3 recorder.py >recorder.log 2>&1 </dev/null & '
                             'echo $! > %s/recorder.pid' % (WORKDIR, WORKDIR))
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection((self.address, PORT), timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, standin.run('cat %s/recorder.log' % WORKDIR).stdout
                time.sleep(0.5)

    def url(self, hub):
        """The endpoint's URL from hub's side: the stand-in's address on a network the hub is on (on
        multihub the stand-in is on two networks, the second hub on one)."""
        hub_address = ipaddress.ip_address(address(hub))
        for line in self.standin.check_output('ip -o -4 addr show').splitlines():
            interface = ipaddress.ip_interface(line.split()[3])
            if hub_address in interface.network:
                return 'https://%s:%d' % (interface.ip, PORT)
        raise AssertionError('the Moodle stand-in shares no network with %s' % hub_address)

    def received(self):
        """Each request: its request line, its query and its form fields."""
        out = self.standin.run('cat %s/requests.jsonl' % WORKDIR).stdout
        requests = []
        for line in out.splitlines():
            record = json.loads(line)
            target = record['request'].split(' ')[1]
            requests.append({'request': record['request'], 'path': urllib.parse.urlsplit(target).path,
                             'query': dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query)),
                             'fields': dict(urllib.parse.parse_qsl(record['body'], keep_blank_values=True))})
        return requests

    def stop(self):
        self.standin.run('kill $(cat %s/recorder.pid); rm -rf %s' % (WORKDIR, WORKDIR))


@pytest.fixture(scope='module')
def moodle():
    recorder = Recorder(testinfra.get_host('ansible://%s?ansible_inventory=%s' % (moodle_hosts()[0], INVENTORY)))
    yield recorder
    recorder.stop()


@pytest.fixture(scope='module')
def ltictr(host):
    """The hub with ltictr_proxy in front; configurable-http-proxy again afterwards, whatever happened
    (test_going_back_restores_configurable_http_proxy does it, and checks it, when all goes well)."""
    # ltictr_proxy listens on IPv4 only: a dual-stack hub's proxy address (::) is set to its IPv4 one.
    run = converge(host, '-e', json.dumps({'lticontainerspawner_ltictr_proxy': True,
                                           'jupyterhub_proxy_ip_addr': urllib.parse.urlsplit(hub_url(host)).hostname}))
    wait_for_hub(hub_url(host))
    yield run
    if host.file(UNIT).exists:
        converge(host)


@pytest.fixture(scope='module')
def student(host, ltictr, moodle):  # pylint: disable=redefined-outer-name,unused-argument
    """A student launched through ltictr_proxy by a Moodle whose web service is the recorder
    (mod_lticontainer's custom parameters: the instance and LTI ids, Moodle's URL and path, its token)."""
    student = Student(hub_url(host), 'nblogstudent', 44, custom={
        'lms_sessioninfo': '3,7', 'lms_serverurl': moodle.url(host),
        'lms_serverpath': '/moodle', 'lms_rpctoken': RPCTOKEN})
    student.launch()
    student.open_server()
    yield student
    student.stop()


def test_ltictr_proxy_serves_the_hub(host, ltictr):
    # (the callback wraps the message's lines)
    assert re.search(r'Restarting JupyterHub on %s .*because of a change to' % re.escape(host.backend.get_hostname()),
                     ' '.join(ltictr.stdout.split())), ltictr.stdout[-3000:]
    # Built from upstream's sources, and in front of the hub in configurable-http-proxy's place.
    for program in PROGRAMS:
        assert host.file(program).mode == 0o755 and host.file(program).user == 'root'
    proxy = host.service('jupyterhub-ltictr-proxy')
    assert proxy.is_running and proxy.is_enabled
    # Not enabled: systemctl says so with 1, or with 4 once the unit is gone (systemd 257, Debian 13).
    assert not host.service('jupyterhub-proxy').is_running and host.run('systemctl is-enabled jupyterhub-proxy').rc != 0
    # Stopped cleanly: not left failed (configurable-http-proxy exits with 2 on SIGTERM).
    assert host.run('systemctl is-failed --quiet jupyterhub-proxy').rc != 0
    assert not host.file('/etc/systemd/system/jupyterhub-proxy.service').exists
    assert 'jupyterhub-ltictr-proxy.service' in host.check_output('systemctl show -p Wants --value jupyterhub').split()
    pid = main_pid(host, 'jupyterhub-ltictr-proxy')
    assert host.file('/proc/%d/cmdline' % pid).content_string.startswith(PROGRAMS[0])
    # Process names as the kernel keeps them (15 characters): the proxy, and the API server it started.
    listening = host.check_output('ss -Hltnp')
    assert re.search(r':443\s.*"ltictr_proxy_se"', listening) and re.search(r':8001\s.*"ltictr_api_serv"', listening)
    # Its configuration: the hub's proxy token and the tls role's certificate, nothing of upstream's examples.
    conf = host.file(CONF)
    assert conf.user == 'root' and conf.mode == 0o600
    token = re.search(r'CONFIGPROXY_AUTH_TOKEN=(\S+)', host.file('/var/lib/jupyterhub/proxy.env').content_string).group(1)
    settings = dict(line.split(' = ', 1) for line in conf.content_string.splitlines() if ' = ' in line and line[0] != '#')
    assert settings['LTICTR_API_Token'] == token
    assert (settings['LTICTR_Server_Cert'], settings['LTICTR_Private_Key']) == (
        '/etc/ssl/certs/jupyterhub.crt', '/etc/ssl/private/jupyterhub.key')
    assert 'ABCDEFG' not in conf.content_string and 'letsencrypt' not in conf.content_string
    # It serves the hub's certificate, and its API server answers the hub's token with the hub's route.
    served = ssl.get_server_certificate((hub_url(host).split('//')[1].rsplit(':', 1)[0], 443))
    cert = host.file('/etc/ssl/certs/jupyterhub.crt').content_string
    assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(cert)
    assert routes(host)['/']['hub'] is True


# Both of jupyter_server's kernel websocket protocols: JSON text frames, and JupyterLab 4's binary V1
# (upstream parses each its own way).
@pytest.mark.parametrize('protocol', [None, V1], ids=['json', 'v1'])
def test_a_cell_run_through_it_is_reported_to_moodle(host, student, moodle, protocol):
    # JupyterLab, through ltictr_proxy.
    status, _headers, page = student.hub.follow('GET', '/user/%s/lab' % student.name, areas=('/hub/', '/user/'))
    assert status == 200 and b'JupyterLab' in page, page[:500]
    assert '/user/%s' % student.name in routes(host)
    # A notebook cell run as JupyterLab runs it: over the kernel's websocket, through the proxy.
    cell_id = 'cell-nblogs-%s' % ('v1' if protocol else 'json')
    channel = KernelChannel(student, start_kernel(student), protocol=protocol)
    try:
        msg_id, stdout, reply = channel.execute('print(6 * 7)', cell_id=cell_id)
    finally:
        channel.close()
    assert reply['status'] == 'ok' and stdout == '42\n', (reply, stdout)
    # ltictr_proxy's reports, as mod_lticontainer_write_nblogs receives them: which course and LTI the
    # websocket's session belongs to (from the launch), the cell the student sent, the kernel's answer.
    # The recorder serves both hubs: this session's reports only.
    deadline = time.monotonic() + 30
    while True:
        received = [r for r in moodle.received() if r['fields'].get('nb_logs[0][session]') == channel.session]
        kinds = {r['fields'].get('nb_logs[0][host]') for r in received}
        if {'ltictr', 'client', 'server'} <= kinds or time.monotonic() > deadline:
            break
        time.sleep(1)
    report_file = REPORT % (host.backend.get_hostname(), 'v1' if protocol else 'json')
    os.makedirs(os.path.dirname(report_file), exist_ok=True)
    with open(report_file, 'w', encoding='utf-8') as report:
        for request in received:
            report.write(request['request'] + '\n')
            report.writelines('    %s = %s\n' % item for item in request['fields'].items())
    assert received, 'ltictr_proxy sent no report'
    for request in received:
        assert request['path'] == '/moodle/webservice/rest/server.php', request
        assert request['query'] == {'wsfunction': 'mod_lticontainer_write_nblogs', 'wstoken': RPCTOKEN}, request
    by_kind = {r['fields']['nb_logs[0][host]']: r['fields'] for r in received}
    assert set(by_kind) == {'ltictr', 'client', 'server'}, received
    assert by_kind['ltictr']['nb_logs[0][inst_id]'] == '3' and by_kind['ltictr']['nb_logs[0][lti_id]'] == '7'
    assert by_kind['client']['nb_logs[0][cell_id]'] == cell_id
    assert by_kind['client']['nb_logs[0][message]'] == by_kind['server']['nb_logs[0][message]'] == msg_id
    assert by_kind['server']['nb_logs[0][status]'] == 'ok'


def test_going_back_restores_configurable_http_proxy(host, ltictr, student):  # pylint: disable=unused-argument
    before = json.loads(student.status()[1])['started']
    run = converge(host)
    url = hub_url(host)
    wait_for_hub(url)
    assert host.service('jupyterhub-proxy').is_running and host.service('jupyterhub-proxy').is_enabled
    assert 'configurable-http-proxy' in host.file('/proc/%d/cmdline' % main_pid(host, 'jupyterhub-proxy')).content_string
    assert not host.service('jupyterhub-ltictr-proxy').is_running
    assert host.run('systemctl is-failed --quiet jupyterhub-ltictr-proxy').rc != 0
    for path in (UNIT, CONF) + PROGRAMS:
        assert not host.file(path).exists, path
    assert 'Restarting JupyterHub' in run.stdout
    # The student's server kept running: the same one answers the same session, through the route
    # the hub put back into configurable-http-proxy.
    status, body = student.status()
    assert status == 200 and json.loads(body)['started'] == before
    assert '/user/%s' % student.name in routes(host)
    # Nothing is left to change, and nothing restarts.
    pids = main_pid(host, 'jupyterhub'), main_pid(host, 'jupyterhub-proxy')
    again = converge(host)
    assert changed(again, host) == 0, again.stdout[-3000:]
    assert (main_pid(host, 'jupyterhub'), main_pid(host, 'jupyterhub-proxy')) == pids
