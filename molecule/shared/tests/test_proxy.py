"""Behind an outbound proxy, on the first hub of the scenario. Debian's tinyproxy runs in the Moodle
stand-in as the campus proxy, and nftables rules on the hub refuse everything it (and its students'
containers) sends out, except to loopback, the containers' bridges and the stand-in. A converge that must
install an apt package and a pip package then fails without the proxy, and succeeds with
os_base_http_proxy set: tinyproxy's log shows apt's, pip's and the engine's requests, and those of a
student's container when lticontainerspawner_container_proxy asks for it (and not otherwise). The rules are
always removed; a converge without the proxy then leaves the hub as it was, with nothing to change after.

Not exercised here: the spawner's git checkout (GitHub is unreachable; the tests unpack it from a mirror
directory) and npm (only Rocky Linux's configurable-http-proxy comes from it); the engines' pulls reach
the proxy, but no registry behind it.

tinyproxy's request lines are kept in .cache/proxy-test/requests.log, one phase after another."""
import json
import os
import re
import socket
import subprocess
import time
import urllib.parse

import pytest
import testinfra

from classroom import Student, wait_for_hub
from conftest import INVENTORY, PROJECT, hub_hosts, moodle_hosts, playbook
from test_term import containers, engine, hub_url
from test_upkeep import recap

testinfra_hosts = hub_hosts()[:1]

PORT = 8888
LOG = '/tmp/tinyproxy.log'
TINYPROXY_CONF = '''Port %d
Timeout 60
MaxClients 20
LogFile "%s"
LogLevel Info
PidFile "/tmp/tinyproxy.pid"
''' % (PORT, LOG)
KEPT = os.path.join(PROJECT, '.cache', 'proxy-test', 'requests.log')

# What makes the converge reach the network: an apt package (one small .deb) and a pip package.
APT_PACKAGE, PIP_PACKAGE = 'hello', 'tabulate'
WORK = {'os_base_packages': [APT_PACKAGE], 'jupyterhub_extra_pip_packages': [PIP_PACKAGE + '==0.9.0']}
PIP_TASK = "Install JupyterHub, ltiauthenticator and dockerspawner in the hub's virtualenv"

# Everything out of the host's own interfaces (eth0, and eth1 on the dual-stack network of
# test_ipv6.py) is refused unless it goes to the proxy or answers a connection made to the hub (the
# tests' HTTPS); loopback and the engine's bridges are other interfaces. The forward chain does the
# same for the students' containers.
CHAIN = '''
        type filter hook %s priority filter; policy accept;
        oifname != "eth*" accept
        ip daddr %s accept
        ct state established,related accept
        reject with icmpx type admin-prohibited
'''
TABLE = 'inet lticontainer_proxy_test'

# What a converge with the proxy writes; each is absent or as before once the proxy is gone.
WRITTEN = ['/etc/apt/apt.conf.d/80lticontainer-proxy', '/etc/systemd/system/docker.service.d/lticontainer.conf',
           '/etc/containers/containers.conf.d/50-lticontainer-proxy.conf',
           '/usr/local/etc/ltictr/lticontainerspawner_config.py', '/usr/local/etc/ltictr/jupyterhub_lticontainer_config.py']

# From a student's container, through whatever proxy its environment names (the CA is not checked: the
# request only has to reach the proxy).
FETCH = ("python3 -c \"import ssl, urllib.request; urllib.request.urlopen('https://registry.npmjs.org/', "
         "context=ssl._create_unverified_context(), timeout=20)\"")


def docker_inspect(container, template):
    return subprocess.check_output(['docker', 'inspect', '-f', template, container], text=True).strip()


def address(container):
    return docker_inspect(container, '{{.NetworkSettings.IPAddress}}')


def hub_address(host):
    return urllib.parse.urlsplit(hub_url(host)).hostname


def hub_addresses(host):
    """The hub host's addresses on each of its Docker networks. Its requests reach the proxy from the one
    on the stand-in's network, which on a dual-stack hub (test_ipv6.py) is not the hub's own address."""
    networks = '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}'
    return docker_inspect(host.backend.get_hostname(), networks).split()


def converge(host, *args, extra=None):
    extra_vars = ['-e', json.dumps(extra)] if extra else []
    return playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(), *extra_vars, *args)


def output(run):
    """What a playbook printed: a failure goes to stderr in Molecule's runs (display_failed_stderr)."""
    return run.stdout + '\n' + run.stderr


def failed_task(run):
    """The task a failed playbook stopped at (the last it started: with one host, nothing runs after a
    failure), and the failure's message."""
    fatal = re.search(r'^fatal: .*?(?=^(?:TASK|RUNNING|NO MORE|PLAY) |\Z)', output(run), re.M | re.S)
    assert run.returncode != 0 and fatal, output(run)[-3000:]
    return re.findall(r'^TASK \[(.*)\]', run.stdout, re.M)[-1], ' '.join(fatal.group(0).split())


def short(text, ends=600):
    return text if len(text) <= 2 * ends else text[:ends] + ' [...] ' + text[-ends:]


def sha256s(host, paths):
    return {path: host.file(path).sha256sum if host.file(path).exists else None for path in paths}


class Tinyproxy:
    """Debian's tinyproxy in the Moodle stand-in, and the requests it logged."""

    def __init__(self):
        self.moodle = testinfra.get_host('ansible://%s?ansible_inventory=%s' % (moodle_hosts()[0], INVENTORY))
        self.url = 'http://%s:%d' % (address(moodle_hosts()[0]), PORT)
        self.seen = 0

    def start(self):
        self.moodle.check_output('python3 -c "import sys; open(sys.argv[1], \'w\').write(sys.argv[2])" %s %s',
                                 '/tmp/tinyproxy.conf', TINYPROXY_CONF)
        self.moodle.check_output('rm -f %s && tinyproxy -c /tmp/tinyproxy.conf', LOG)
        host, port = urllib.parse.urlsplit(self.url).hostname, PORT
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((host, port), 2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, 'tinyproxy does not listen at %s' % self.url
                time.sleep(0.5)
        os.makedirs(os.path.dirname(KEPT), exist_ok=True)
        with open(KEPT, 'w') as kept:
            kept.write('# tinyproxy at %s, from %s: its request lines (and their clients) by phase\n'
                       % (self.url, time.strftime('%H:%M:%S')))

    def stop(self):
        self.moodle.run('kill "$(cat /tmp/tinyproxy.pid)"')
        self.note('stopped at %s' % time.strftime('%H:%M:%S'))

    def note(self, text):
        with open(KEPT, 'a') as kept:
            kept.write('# %s\n' % text)

    def requests(self, phase):
        """(client address, request line) of each request logged since the last call; the log's lines
        are kept, under the phase's name."""
        lines = self.moodle.check_output('cat %s', LOG).splitlines()
        client, found = {}, []
        for line in lines:
            match = re.search(r'\]: (Connect|Request) \(file descriptor (\d+)\): (.*)$', line)
            if match and match.group(1) == 'Connect':
                client[match.group(2)] = match.group(3).strip()
            elif match:
                found.append((client.get(match.group(2)), match.group(3).strip(), line))
        new, self.seen = found[self.seen:], len(found)
        with open(KEPT, 'a') as kept:
            kept.write('## %s\n' % phase + ''.join('%s  (from %s)\n' % (line, who) for who, _request, line in new))
        return [(who, request) for who, request, _line in new]


class Block:
    """nftables rules that leave the hub (and its students' containers) only the proxy as a way out."""

    def __init__(self, host, proxy_address):
        self.host, self.on = host, False
        self.rules = 'table %s {\n    chain output {%s    }\n    chain forward {%s    }\n}\n' % (
            TABLE, CHAIN % ('output', proxy_address), CHAIN % ('forward', proxy_address))

    def __enter__(self):
        self.host.check_output('printf %s > /run/lticontainer-proxy-test.nft && nft -f /run/lticontainer-proxy-test.nft',
                               self.rules)
        self.on = True
        return self

    def __exit__(self, *exc):
        self.remove()

    def remove(self):
        if self.on:
            self.host.check_output('nft delete table %s', TABLE)
            self.on = False


@pytest.fixture(scope='module')
def proxy():
    tinyproxy = Tinyproxy()
    tinyproxy.start()
    yield tinyproxy
    tinyproxy.stop()


def forget_test_packages(host):
    """The test packages removed, and the .deb apt kept (the next install must download it again)."""
    host.check_output('apt-get purge -y -q %s && rm -f /var/cache/apt/archives/%s_*.deb', APT_PACKAGE, APT_PACKAGE)
    host.check_output('/opt/jupyterhub/bin/pip uninstall -y -q %s', PIP_PACKAGE)


@pytest.fixture(scope='module')
def before(host):
    """The hub as the inventory left it: what the proxy converge writes, and no test package."""
    assert not host.package(APT_PACKAGE).is_installed
    forget_test_packages(host)
    assert PIP_PACKAGE not in host.check_output('/opt/jupyterhub/bin/pip list --format freeze')
    return sha256s(host, WRITTEN)


@pytest.fixture(scope='module')
def keeper(host, before):
    """A student whose server runs through the whole module, started before anything changed."""
    student = Student(hub_url(host), 'proxykeeper', 45)
    student.launch()
    student.open_server()
    student.started = json.loads(student.status()[1])['started']
    yield student
    student.stop()


@pytest.fixture(scope='module')
def blocked(host, proxy, keeper):
    """The hub's direct route out refused; removed at the end of the module whatever happened, or
    earlier by the test that restores the hub."""
    with Block(host, urllib.parse.urlsplit(proxy.url).hostname) as block:
        yield block


def still_serving(student):
    wait_for_hub(student.hub.base_url)
    status, body = student.status()
    assert status == 200, body
    assert json.loads(body)['started'] == student.started


def container_of(host, name):
    ids = [cid for cid, cname in containers(host).items() if cname.endswith('-' + name)]
    assert len(ids) == 1, containers(host)
    return ids[0]


def container_env(host, name):
    env = json.loads(host.check_output('%s inspect -f "{{json .Config.Env}}" %s', engine(host), container_of(host, name)))
    return dict(item.split('=', 1) for item in env)


@pytest.mark.parametrize('bad,named', [
    ({'os_base_http_proxy': 'proxy.example.ac.jp:3128'}, 'os_base_http_proxy must start with http:// or https://'),
    ({'os_base_no_proxy': ['.example.ac.jp, localhost']}, 'os_base_no_proxy must be a list'),
    ({'lticontainerspawner_container_proxy': True}, 'lticontainerspawner_container_proxy is true, but no proxy is set'),
])
def test_a_bad_proxy_stops_the_checks_naming_the_variable(host, bad, named):
    run = converge(host, '--tags', 'preflight', extra=bad)
    assert run.returncode != 0 and named in output(run), output(run)[-3000:]
    # In the play's checks, before any role has started.
    assert failed_task(run)[0].endswith(": Check the role's variables"), run.stdout[-3000:]
    assert recap(run)[host.backend.get_hostname()]['changed'] == 0 and 'Install base packages' not in run.stdout


def test_without_the_proxy_a_converge_cannot_reach_the_network(host, proxy, blocked):
    # apt is the first step that reaches out.
    task, message = failed_task(converge(host, extra=WORK))
    proxy.note('without the proxy: %s failed: %s' % (task, short(message)))
    assert task == 'lticontainer.hub.os_base : Install base packages', message
    # pip, on its own (the hub's role alone).
    task, message = failed_task(converge(host, '--tags', 'jupyterhub', extra=WORK))
    proxy.note('without the proxy, --tags jupyterhub: %s failed: %s' % (task, short(message)))
    assert task == 'lticontainer.hub.jupyterhub : ' + PIP_TASK, message
    assert proxy.requests('converge without the proxy') == []


def test_with_the_proxy_the_converge_goes_through_it(host, proxy, blocked, keeper):
    hub = hub_addresses(host)
    run = converge(host, extra=dict(WORK, os_base_http_proxy=proxy.url, lticontainerspawner_container_proxy=True))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    requests = proxy.requests('converge with the proxy (apt, pip)')
    assert all(who in hub for who, _request in requests), requests
    lines = [request for _who, request in requests]
    # apt's archive is plain HTTP here: the proxy gets the request itself; pip's PyPI is HTTPS: CONNECT.
    assert any(re.match(r'GET http://\S+/pool/\S+/%s_\S+\.deb ' % APT_PACKAGE, line) for line in lines), lines
    assert any(line.startswith(('CONNECT pypi.org:443 ', 'CONNECT files.pythonhosted.org:443 ')) for line in lines), lines
    assert host.package(APT_PACKAGE).is_installed
    assert host.file('/etc/apt/apt.conf.d/80lticontainer-proxy').contains('Acquire::http::Proxy "%s";' % proxy.url)
    # The engine restarted with the proxy (a drop-in or containers.conf); the student's server outlived it.
    if engine(host) == 'docker':
        assert 'HTTPS_PROXY=%s' % proxy.url in host.check_output('systemctl show -p Environment docker')
    else:
        assert host.file('/etc/containers/containers.conf.d/50-lticontainer-proxy.conf').contains('HTTPS_PROXY=')
    still_serving(keeper)


def pull_through_the_engine(host, proxy, phase):
    """An image pulled through the engine's API (as the role and the spawner do), from a registry at the
    stand-in's address, where nothing answers: the engine asks the proxy for it, and the pull fails."""
    registry = '%s:443' % urllib.parse.urlsplit(proxy.url).hostname
    client = 'docker' if engine(host) == 'docker' else 'podman --url unix:///run/podman/podman.sock'
    assert host.run('%s pull %s/lticontainer/proxy-probe:latest' % (client, registry)).rc != 0
    requests = proxy.requests(phase)
    assert any(who in hub_addresses(host) and request.startswith('CONNECT %s ' % registry) for who, request in requests), \
        requests


def test_the_engine_pulls_through_the_proxy(host, proxy, blocked):
    pull_through_the_engine(host, proxy, 'the engine pulls an image')


def test_students_containers_get_the_proxy_only_when_asked(host, proxy, blocked, keeper):
    hub = hub_address(host)
    # The keeper's server started before: no proxy in its environment, and no way out without one.
    assert not [name for name in container_env(host, 'proxykeeper') if 'proxy' in name.lower()]
    assert host.run('%s exec %s %s' % (engine(host), container_of(host, 'proxykeeper'), FETCH)).rc != 0
    assert proxy.requests('a container without the proxy') == []
    # Launched with lticontainerspawner_container_proxy: the proxy, and the hub reached directly.
    student = Student(hub_url(host), 'proxystudent', 46)
    try:
        student.launch()
        env = container_env(host, 'proxystudent')
        assert env['HTTPS_PROXY'] == env['http_proxy'] == proxy.url
        assert env['NO_PROXY'] == env['no_proxy'] == 'localhost,127.0.0.1,' + hub
        host.check_output('%s exec %s %s' % (engine(host), container_of(host, 'proxystudent'), FETCH))
        requests = proxy.requests("a student's container")
        assert [(who in hub_addresses(host), request.split()[:2]) for who, request in requests] == [
            (True, ['CONNECT', 'registry.npmjs.org:443'])]
    finally:
        student.stop()


# The container_runtime role alone (its tasks are in files it includes, which --tags would skip), with its
# proxy variables given as a site using the role alone must.
ENGINE_ALONE = """- name: The container_runtime role alone
  hosts: hubs
  become: true
  gather_subset: [min, network, virtual]
  roles:
    - lticontainer.hub.container_runtime
"""


@pytest.mark.parametrize('other', hub_hosts()[1:])
def test_the_other_hubs_engines_pull_through_the_proxy(proxy, other, tmp_path):
    """The other hubs' engines (Podman on multihub's second hub): the engine's role with the proxy, a pull
    through it, and the role without the proxy, which removes it and then has nothing more to change."""
    # The inventory's directory: its host_vars say which engine the hub runs.
    hub = testinfra.get_host('ansible://%s?ansible_inventory=%s' % (other, os.path.dirname(INVENTORY)))
    (tmp_path / 'engine.yml').write_text(ENGINE_ALONE)

    def engine_role(url):
        return playbook(str(tmp_path / 'engine.yml'), '--limit', other, '-e', json.dumps({
            'container_runtime_http_proxy': url, 'container_runtime_https_proxy': url, 'container_runtime_no_proxy': []}))

    written = sha256s(hub, WRITTEN)
    try:
        run = engine_role(proxy.url)
        assert run.returncode == 0, run.stdout[-4000:]
        pull_through_the_engine(hub, proxy, "%s's engine pulls an image" % other)
    finally:
        restored = engine_role('')
    assert restored.returncode == 0, restored.stdout[-4000:]
    again = engine_role('')
    assert again.returncode == 0 and recap(again)[other]['changed'] == 0, again.stdout[-3000:]
    assert sha256s(hub, WRITTEN) == written


def test_without_the_proxy_the_hub_is_as_before(host, proxy, blocked, before, keeper):
    blocked.remove()
    name = host.backend.get_hostname()
    restored = converge(host)
    assert restored.returncode == 0, restored.stdout[-4000:]
    # What the test installed is not the roles' to remove.
    forget_test_packages(host)
    assert sha256s(host, WRITTEN) == before
    again = converge(host)
    assert again.returncode == 0 and recap(again)[name]['changed'] == 0, again.stdout[-3000:]
    still_serving(keeper)
    assert proxy.requests('converges after the test') == []
