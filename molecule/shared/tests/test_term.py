"""A term-long service: students' servers and their routes survive whatever an operator does to
the hub (restart, crash, a site.yml run that changes it) and to the engine (restart), with a
student's server running, and stopping a server still removes its container."""
import json
import re
import time

import pytest

from classroom import Student, wait_for_hub
from conftest import hub_hosts, playbook

testinfra_hosts = hub_hosts()


def engine(host):
    return host.ansible.get_variables()['container_runtime_engine']


def hub_url(host):
    return host.ansible('setup', 'gather_subset=!all,local')['ansible_facts']['ansible_local']['lticontainer_hub']['url']


def containers(host):
    """The engine's running containers: id -> name."""
    out = host.check_output('%s ps --no-trunc --format "{{.ID}} {{.Names}}"' % engine(host))
    return dict(line.split(' ', 1) for line in out.splitlines())


ROUTES = '''
import json, urllib.request
token = open('/var/lib/jupyterhub/proxy.env').read().split('CONFIGPROXY_AUTH_TOKEN=')[1].split()[0]
request = urllib.request.Request('http://127.0.0.1:8001/api/routes', headers={'Authorization': 'token ' + token})
print(urllib.request.urlopen(request, timeout=10).read().decode())
'''


def routes(host):
    """The proxy's routes, from its API on the hub host (token from the hub's state directory)."""
    return json.loads(host.check_output('python3 -c %s', ROUTES))


def main_pid(host, unit):
    return int(host.check_output('systemctl show -p MainPID --value %s' % unit))


@pytest.fixture(scope='module')
def student(host):
    """A student whose server runs through the tests of this module, opened as a browser does."""
    url = hub_url(host)
    student = Student(url, 'termstudent', 41)
    server = student.launch()
    student.open_server()
    assert student.status()[0] == 200
    student.server = server
    yield student
    student.stop()


def still_serving(host, student, before):
    """The same server answers the student's session, through a route the proxy still has."""
    wait_for_hub(student.hub.base_url)
    status, body = student.status()
    assert status == 200, body
    # Not a new server: the one started before the event, in the same container.
    assert json.loads(body)['started'] == before['started']
    assert before['container'] in containers(host)
    assert '/user/termstudent' in routes(host)
    assert student.model()['servers']['']['ready'] is True


@pytest.fixture
def before(host, student):
    status, body = student.status()
    assert status == 200
    ids = [cid for cid, name in containers(host).items() if name.endswith('-termstudent')]
    assert len(ids) == 1, containers(host)
    return {'started': json.loads(body)['started'], 'container': ids[0]}


def test_a_hub_restart_keeps_servers_and_routes(host, student, before):
    proxy = main_pid(host, 'jupyterhub-proxy')
    host.check_output('systemctl restart jupyterhub')
    still_serving(host, student, before)
    assert main_pid(host, 'jupyterhub-proxy') == proxy


def test_a_killed_hub_comes_back_and_keeps_servers(host, student, before):
    pid = main_pid(host, 'jupyterhub')
    host.check_output('systemctl kill -s KILL jupyterhub')
    deadline = time.monotonic() + 30
    while main_pid(host, 'jupyterhub') in (0, pid):
        assert time.monotonic() < deadline, 'systemd did not restart the hub'
        time.sleep(0.5)
    still_serving(host, student, before)


def test_a_converge_that_changes_the_hub_keeps_servers_and_says_why(host, student, before):
    name = host.backend.get_hostname()
    changed = playbook('playbooks/site.yml', '--limit', name, '-e', 'jupyterhub_concurrent_spawn_limit=199')
    assert changed.returncode == 0, changed.stdout[-3000:]
    assert re.search(r'Restarting JupyterHub on %s .*because of a change to\s+the hub configuration' % re.escape(name),
                     changed.stdout), changed.stdout[-3000:]
    assert 'concurrent_spawn_limit = 199' in host.check_output(
        'cat /usr/local/etc/ltictr/jupyterhub_lticontainer_config.py')
    still_serving(host, student, before)
    # Back to the inventory's values: restarts the hub once more, the server still runs.
    restored = playbook('playbooks/site.yml', '--limit', name)
    assert restored.returncode == 0, restored.stdout[-3000:]
    still_serving(host, student, before)
    # And a run with nothing to change restarts nothing.
    hub, proxy = main_pid(host, 'jupyterhub'), main_pid(host, 'jupyterhub-proxy')
    unchanged = playbook('playbooks/site.yml', '--limit', name)
    assert unchanged.returncode == 0 and re.search(r'changed=0\s', unchanged.stdout), unchanged.stdout[-3000:]
    assert 'Restarting JupyterHub' not in unchanged.stdout
    assert (main_pid(host, 'jupyterhub'), main_pid(host, 'jupyterhub-proxy')) == (hub, proxy)


def test_an_engine_restart_keeps_servers(host, student, before):
    # Docker restores live containers (live-restore); Debian 12's Docker 20.10 would remove those
    # created with AutoRemove (moby/moby#46308), which the spawner's containers are not.
    units = 'docker' if engine(host) == 'docker' else 'podman.socket podman.service'
    host.check_output('systemctl restart %s' % units)
    still_serving(host, student, before)


def test_stopping_a_server_removes_its_container(host):
    student = Student(hub_url(host), 'termstopper', 42)
    student.launch()
    ids = [cid for cid, name in containers(host).items() if name.endswith('-termstopper')]
    assert len(ids) == 1
    # Moodle's call; the hub answers 202 while the spawner stops and removes the container.
    assert student.stop() in (202, 204)
    deadline = time.monotonic() + 60
    while student.model()['servers']:
        assert time.monotonic() < deadline, 'the hub did not stop the server'
        time.sleep(1)
    listed = host.check_output('%s ps -a --no-trunc --format "{{.ID}}"' % engine(host)).split()
    assert ids[0] not in listed
