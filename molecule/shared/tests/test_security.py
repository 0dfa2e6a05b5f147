"""What a launch, a student's container and the outside can reach on a hub: each attack tried
against the converged hubs, from the controller, from the Moodle stand-in and from inside a
student's container, and the refusal or the clamp it meets."""
import json
import os
import re
import socket
import subprocess
import threading
import time
from inspect import getsource

import pytest
import testinfra

from classroom import Student, wait_for_hub
from conftest import INVENTORY, hub_hosts, moodle_hosts, playbook
from test_term import containers, engine, hub_url, main_pid

testinfra_hosts = hub_hosts()
IMAGE = os.environ['MOLECULE_SINGLEUSER_IMAGE']
PASSWORD = os.environ['MOLECULE_TUNNEL_PASSWORD']
# The lticontainerspawner role's defaults.
MAX_MEM, MAX_CPU, DEFAULT_MEM, DEFAULT_CPU, PIDS = 4 * 1024 ** 3, 2.0, 1024 ** 3, 1.0, 1024
# The scenario's jupyterhub_moodle_origin (molecule/shared/group_vars).
MOODLE_ORIGIN = 'https://moodle.example.org'


def tunnel_user(host):
    local = host.ansible('setup', 'gather_subset=!all,local')['ansible_facts']['ansible_local']
    return local['lticontainer_tunnel']['user']


def address(host):
    return host.ansible('setup', 'gather_subset=network')['ansible_facts']['ansible_default_ipv4']['address']


def container_of(host, name):
    ids = [cid for cid, cname in containers(host).items() if cname.endswith('-' + name)]
    assert len(ids) == 1, containers(host)
    return ids[0]


def inspect(host, cid, template):
    return host.check_output('%s inspect -f %s %s', engine(host), template, cid)


# What `podman exec` does, for the Podman hubs here (runc's exec cannot find the container's
# systemd scope where the hub host is itself a container on cgroup v1), and for root with every
# capability: join the container's cgroups (its limits apply), enter its namespaces, then drop
# to the user.
ENTER = """
import os, sys
pid, user, code = sys.argv[1:4]
for line in open('/proc/%s/cgroup' % pid):
    _n, controllers, path = line.rstrip('\\n').split(':', 2)
    if controllers:
        with open('/sys/fs/cgroup/%s%s/cgroup.procs' % (controllers.replace('name=', ''), path), 'w') as procs:
            procs.write(str(os.getpid()))
drop = [] if user == '0' else ['setpriv', '--no-new-privs', '--reuid', user, '--regid', user, '--clear-groups']
os.execvp('nsenter', ['nsenter', '-t', pid, '-m', '-u', '-i', '-n', '-p', '--'] + drop + ['python3', '-c', code])
"""


def in_container(host, cid, code, user=None, detach=False):
    """Run Python in a student's container as the student (NB_UID), or as user; user '0' with every
    capability (the test's own access, to write to the server's stdout)."""
    if user is None:
        env = dict(e.split('=', 1) for e in json.loads(inspect(host, cid, '{{json .Config.Env}}')))
        user = env['NB_UID']
    # docker exec --privileged cannot apply its capabilities on these hub hosts (no CAP_SYS_RESOURCE).
    if engine(host) == 'docker' and user != '0':
        return host.run('docker exec %s-u %%s %%s python3 -c %%s' % ('-d ' if detach else ''), user, cid, code)
    pid = inspect(host, cid, '{{.State.Pid}}')
    return host.run('%spython3 -c %%s %%s %%s %%s' % ('setsid -f ' if detach else ''), ENTER, pid, user, code)


def cgroup_dir(host, cid, controller):
    """The container's cgroup (v1) directory of a controller, on the hub host."""
    pid = inspect(host, cid, '{{.State.Pid}}')
    for line in host.file('/proc/%s/cgroup' % pid).content_string.splitlines():
        _n, controllers, path = line.split(':', 2)
        if controller in controllers.split(','):
            return '/sys/fs/cgroup/%s%s' % (controllers, path)
    raise AssertionError('no %s cgroup for %s' % (controller, cid))


def hub_health(url):
    return Student(url, 'nobody-in-particular', 1).hub.request('GET', '/hub/health', record=False)[0]


@pytest.fixture(scope='module')
def student(host):
    """A student whose server runs through this module's tests on each hub."""
    student = Student(hub_url(host), 'secstudent', 51)
    student.launch()
    student.open_server()
    student.container = container_of(host, student.name)
    yield student
    student.stop()


def stopped(student):
    student.stop()
    deadline = time.monotonic() + 60
    while student.model()['servers']:
        assert time.monotonic() < deadline, 'the hub did not stop the server of %s' % student.name
        time.sleep(1)


# ------------------------------------------------------------------ images

def test_an_image_not_on_the_list_is_refused_and_nothing_is_pulled(host):
    cli = engine(host)
    # Present on the engine under a name the inventory does not list: upstream would start it.
    host.check_output('%s tag %s unlisted/evil:1', cli, IMAGE)
    since = host.check_output('date +%s')
    try:
        for name, image in (('secimage1', 'unlisted/evil:1'), ('secimage2', 'registry.invalid/miner : latest')):
            status, page, event = Student(hub_url(host), name, 52, custom={'lms_image': image}).refused_spawn()
            wanted = image.replace(' ', '')
            # What the student sees, on the spawn page and in the hub's progress events.
            assert "the course asks for the image '%s', which is not on its list" % wanted in event['message'], event
            assert 'not on its list' in page, (status, page[-2000:])
            assert not [n for n in containers(host).values() if n.endswith('-' + name)]
        until = str(int(host.check_output('date +%s')) + 1)
        log = host.check_output('journalctl -u jupyterhub --since @%s --no-pager', since)
        assert "refused the launch of secimage2: the course asks for the image 'registry.invalid/miner:latest'" in log
        assert 'pulling' not in log
        if cli == 'docker':
            pulls = host.check_output('docker events --since %s --until %s --filter event=pull', since, until)
        else:
            pulls = host.check_output('podman events --since %s --until %s --filter event=pull --stream=false',
                                      since, until)
        assert pulls.strip() == ''
        assert host.run('%s image inspect registry.invalid/miner:latest', cli).rc != 0
    finally:
        host.run('%s rmi unlisted/evil:1', cli)


# ------------------------------------------------------------------ CPU, memory, processes

@pytest.mark.parametrize('name,asked,memory,cpus', [
    ('secclamp0', {'lms_memlimit': '0', 'lms_cpulimit': '0'}, MAX_MEM, MAX_CPU),
    ('secclamphuge', {'lms_memlimit': '99,999,999,999,999', 'lms_cpulimit': '100'}, MAX_MEM, MAX_CPU),
    ('secclampabc', {'lms_memlimit': 'abc', 'lms_cpulimit': 'abc'}, MAX_MEM, MAX_CPU),
    ('secclampnone', {}, DEFAULT_MEM, DEFAULT_CPU),
])
def test_cpu_and_memory_asks_are_clamped(host, name, asked, memory, cpus):
    since = host.check_output('date +%s')
    student = Student(hub_url(host), name, 53, custom=asked)
    student.launch()
    try:
        cid = container_of(host, name)
        limits = inspect(host, cid, '{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}')
        got_memory, quota, period = (int(v) for v in limits.split())
        assert (got_memory, quota / period) == (memory, cpus), limits
        log = host.check_output('journalctl -u jupyterhub --since @%s --no-pager', since)
        for key, what, maximum in (('lms_memlimit', 'mem_limit', MAX_MEM), ('lms_cpulimit', 'cpu_limit', MAX_CPU)):
            if key in asked:
                assert '%s asked for %s %r' % (name, what, asked[key]) in log
                assert 'clamped to the maximum, %s' % maximum in log
            else:
                assert '%s asked for %s' % (name, what) not in log
    finally:
        stopped(student)


def test_a_fork_bomb_stops_at_the_pids_limit_and_the_hub_answers(host):
    url = hub_url(host)
    student = Student(url, 'secforker', 54)
    student.launch()
    try:
        cid = container_of(host, student.name)
        assert inspect(host, cid, '{{.HostConfig.PidsLimit}}') == str(PIDS)
        pids = cgroup_dir(host, cid, 'pids')
        assert host.file(pids + '/pids.max').content_string.strip() == str(PIDS)
        # Every process forks for 20 s: exponential, until the kernel refuses.
        bomb = 'import os, time\nend = time.time() + 20\nwhile time.time() < end:\n' \
               '    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)\n'
        assert in_container(host, cid, bomb, detach=True).rc == 0
        peak, health = 0, []
        deadline = time.monotonic() + 18
        while time.monotonic() < deadline:
            peak = max(peak, int(host.file(pids + '/pids.current').content_string))
            health.append(hub_health(url))
            time.sleep(1)
        assert peak == PIDS, peak
        assert 'max ' in host.file(pids + '/pids.events').content_string
        assert int(host.file(pids + '/pids.events').content_string.split()[1]) > 0
        # The hub answered throughout, through the proxy, and Moodle's API still works.
        assert set(health) == {200}, health
        assert student.model()['name'] == student.name
    finally:
        stopped(student)


def test_a_container_over_its_memory_is_killed_alone(host, student):
    url = hub_url(host)
    hub, proxy = main_pid(host, 'jupyterhub'), main_pid(host, 'jupyterhub-proxy')
    hog = Student(url, 'sechog', 55, custom={'lms_memlimit': '268,435,456'})
    hog.launch()
    try:
        cid = container_of(host, hog.name)
        memory = cgroup_dir(host, cid, 'memory')
        # 1 GiB written in a container of 256 MiB: its cgroup's OOM killer kills the allocation.
        run = in_container(host, cid, "data = b'x' * 1024 ** 3\nprint(len(data))")
        assert run.rc == 137, run
        assert int(host.file(memory + '/memory.failcnt').content_string) > 0
        oom = dict(line.split() for line in host.file(memory + '/memory.oom_control').content_string.splitlines())
        assert int(oom.get('oom_kill', 1)) >= 1
        # Alone: the hog's server, the other student's, the hub and the proxy are as they were.
        assert inspect(host, cid, '{{.State.Running}}') == 'true'
        assert hog.model()['servers']['']['ready'] is True
        assert student.status()[0] == 200
        assert hub_health(url) == 200
        assert (main_pid(host, 'jupyterhub'), main_pid(host, 'jupyterhub-proxy')) == (hub, proxy)
    finally:
        stopped(hog)


def test_the_hub_and_the_proxy_are_the_last_the_kernel_kills(host):
    for unit in ('jupyterhub', 'jupyterhub-proxy'):
        assert host.check_output('systemctl show -p OOMScoreAdjust --value %s' % unit) == '-900'
        effective = host.file('/proc/%d/oom_score_adj' % main_pid(host, unit)).content_string.strip()
        # Lowering needs CAP_SYS_RESOURCE, which a hub host that is itself a container here lacks
        # (systemd then ignores the setting): there the value stays as the container's.
        can_lower = host.run("sh -c 'echo -1 > /proc/self/oom_score_adj'").rc == 0
        assert effective == ('-900' if can_lower else '0'), (unit, effective, can_lower)


def test_students_get_no_new_privileges_and_rotated_logs(host, student):
    cid = student.container
    assert 'no-new-privileges' in inspect(host, cid, '{{json .HostConfig.SecurityOpt}}')
    # The student's server itself, as the engine started it.
    server = host.file('/proc/%s/status' % inspect(host, cid, '{{.State.Pid}}')).content_string
    assert re.search(r'^NoNewPrivs:\s+1$', server, re.M), server
    # A notebook that prints without end: 30 MB on the server's own stdout.
    flood = "import sys\nout = open('/proc/1/fd/1', 'w')\nfor _ in range(30000):\n    out.write('x' * 999 + '\\n')\n"
    assert in_container(host, cid, flood, user='0').rc == 0
    if engine(host) == 'docker':
        path = inspect(host, cid, '{{.LogPath}}')
        sizes = [int(s) for s in host.check_output('stat -c %%s %s*', path).split()]
        assert 1 < len(sizes) <= 3 and max(sizes) <= 10 * 1024 ** 2 + 64 * 1024, sizes
    else:
        path = inspect(host, cid, '{{.HostConfig.LogConfig.Path}}')
        assert inspect(host, cid, '{{.HostConfig.LogConfig.Type}}') == 'k8s-file'
        assert int(host.check_output('stat -c %%s %s', path)) <= 10 * 1024 ** 2


def test_active_servers_are_sized_from_the_hosts_memory(host):
    config = host.check_output(
        '/opt/jupyterhub/bin/python -c %s',
        'from traitlets.config import Config\nc = Config()\n'
        "exec(open('/usr/local/etc/ltictr/lticontainerspawner_config.py').read(), {'get_config': lambda: c})\n"
        'print(c.JupyterHub.active_server_limit)')
    memory = int(re.search(r'^MemTotal:\s+(\d+) kB', host.file('/proc/meminfo').content_string, re.M).group(1)) * 1024
    assert abs(int(config) - (memory - 2 * 1024 ** 3) // DEFAULT_MEM) <= 1, (config, memory)


# ------------------------------------------------------------------ user names

@pytest.mark.parametrize('name,reason', [
    ('root', 'is reserved'),
    ('admin', 'is reserved'),
    ('docker', 'is reserved'),
    ('podman', 'is reserved'),
    ('..', 'is not a valid user name'),
    ('.x', 'is not a valid user name'),
    ('daemon', 'is a system account'),
])
def test_unsafe_user_names_are_refused(host, name, reason):
    student = Student(hub_url(host), name, 56)
    status, page = student.login()
    assert status == 403, (status, page[-2000:])
    assert reason in page and 'The LMS user name' in page
    status, users = student.hub.api('GET', '/hub/api/users', os.environ['MOLECULE_API_TOKEN'])
    assert status == 200 and name not in [u['name'] for u in users]
    # Nothing made for it on the host (the spawner would make <home>/jupyter/works).
    assert host.run('ls -d /home/*/%s/jupyter /%s/jupyter', name, name).rc != 0


def test_a_system_uid_from_a_patched_moodle_is_refused(host):
    # ext_user_userid / ext_user_groupid (mod_lticontainer's patched Moodle) name root's ids.
    for name, extra, message in (('secuid0', {'ext_user_userid': '0'}, 'uid 0 is a system id'),
                                 ('secgid0', {'ext_user_groupid': '0'}, 'gid 0 is a system id')):
        _status, _page, event = Student(hub_url(host), name, 57, extra=extra).refused_spawn()
        assert message in event['message'], event
        assert not host.file('/home/root').exists


# ------------------------------------------------------------------ ports and the tunnel

# Run in a container: (gateway, hub address) x (sshd, the hub API, the proxy's API).
REACH = '''
import json, socket, struct
HUB, API = %r, %d
def gateway():
    for line in open('/proc/net/route').read().splitlines()[1:]:
        fields = line.split()
        if fields[1] == '00000000':
            return socket.inet_ntoa(struct.pack('<L', int(fields[2], 16)))
def reach(address, port):
    try:
        s = socket.create_connection((address, port), 5)
        s.sendall(b'GET /hub/api/ HTTP/1.0\\r\\n\\r\\n' if port == API else b'')
        return s.recv(12).decode('latin-1')
    except ConnectionRefusedError:
        return 'refused'
    except OSError as exc:
        return type(exc).__name__
print(json.dumps({a: {p: reach(a, p) for p in (22, API, 8001)} for a in (gateway(), HUB)}))
'''


def reach_from_here(address, port):
    try:
        with socket.create_connection((address, port), 5) as s:
            return s.recv(12).decode('latin-1') if port == 22 else 'connected'
    except ConnectionRefusedError:
        return 'refused'
    except OSError as exc:
        return type(exc).__name__


def reach_from_container(host, student):
    """What a student's container reaches on the bridge's gateway and on the hub's address."""
    seen = json.loads(in_container(host, student.container, REACH % (address(host), 8081)).stdout)
    assert len(seen) == 2, seen
    return seen


def test_containers_reach_the_hub_api_and_nothing_else_of_the_host(host, student):
    seen = reach_from_container(host, student)
    for target, ports in seen.items():
        assert ports['22'] == 'refused', (target, ports)      # sshd
        assert ports['8001'] == 'refused', (target, ports)    # the proxy's API (loopback only)
    # The hub API, which they need, on the address the hub binds (the gateway has nothing there).
    assert seen[address(host)]['8081'].startswith('HTTP/1.'), seen
    # The refusal is the guard's: without it, sshd answers the container.
    host.check_output('systemctl stop lticontainer-tunnel-guard')
    try:
        assert reach_from_container(host, student)[address(host)]['22'].startswith('SSH-2.0')
    finally:
        host.check_output('systemctl start lticontainer-tunnel-guard')
    assert reach_from_container(host, student)[address(host)]['22'] == 'refused'


def test_the_hub_api_does_not_answer_from_outside(host):
    hub = address(host)
    # From the controller (not a container of the hub) and from Moodle's host.
    assert reach_from_here(hub, 8081) == 'refused'
    assert reach_from_here(hub, 8001) == 'refused'
    moodle = testinfra.get_host('ansible://%s?ansible_inventory=%s' % (moodle_hosts()[0], INVENTORY))
    probe = 'import socket\ntry:\n    socket.create_connection(("%s", 8081), 5)\n    print("connected")\n' \
            'except OSError as exc:\n    print(type(exc).__name__)\n' % hub
    assert moodle.check_output('python3 -c %s', probe) == 'ConnectionRefusedError'
    # The refusal is the guard's: the hub API listens on that address.
    host.check_output('systemctl stop lticontainer-hub-guard')
    try:
        assert reach_from_here(hub, 8081) == 'connected'
    finally:
        host.check_output('systemctl start lticontainer-hub-guard')
    assert reach_from_here(hub, 8081) == 'refused'
    # The proxy still serves it: the hub API on the HTTPS port, as Moodle calls it.
    assert hub_health(hub_url(host)) == 200


def ssh_from_controller(host, password):
    """The tunnel user's login with the right password, from the controller: not a Moodle host."""
    askpass = '/tmp/lticontainer-sec-askpass'
    with open(askpass, 'w', encoding='utf-8') as handle:
        handle.write('#!/bin/sh\necho "$TUNNEL_PW"\n')
    os.chmod(askpass, 0o700)
    env = dict(os.environ, TUNNEL_PW=password, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE='force', DISPLAY=':0')
    return subprocess.run(
        ['ssh', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PubkeyAuthentication=no',
         '-o', 'NumberOfPasswordPrompts=1', '-o', 'ConnectTimeout=10',
         '-N', '-L', '/tmp/lticontainer-sec.sock:/run/docker.sock', '%s@%s' % (tunnel_user(host), address(host))],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, start_new_session=True,
        check=False)


def test_the_tunnel_user_is_refused_from_a_non_moodle_address(host):
    since = host.check_output('date +%s')
    refused = ssh_from_controller(host, PASSWORD)
    assert refused.returncode == 255 and 'Permission denied' in refused.stderr, refused
    log = host.check_output('journalctl --since @%s --no-pager -t sshd -t sshd-session', since)
    assert re.search(r'User \S+ from \S+ not allowed because listed in DenyUsers', log), log


# ------------------------------------------------------------------ framing

def test_only_moodle_may_frame_the_hub(host):
    _status, headers, _body = Student(hub_url(host), 'secframe', 58).hub.request('GET', '/hub/login')
    assert headers['Content-Security-Policy'] == "frame-ancestors 'self' " + MOODLE_ORIGIN


def frame_ancestors(csp):
    """The sources of a Content-Security-Policy's frame-ancestors directive."""
    directives = [d.split() for d in csp.split(';') if d.split()]
    found = [d[1:] for d in directives if d[0] == 'frame-ancestors']
    assert len(found) == 1, csp
    return found[0]


def test_a_students_server_lets_moodle_and_no_one_else_frame_it(host, student):
    """Upstream's single-user server sends frame-ancestors 'self', which keeps JupyterLab out of
    Moodle's iframe: the student's running server, through the proxy, names Moodle's origin and
    no other, and its xsrf cookie is cross-site as the hub's cookies are."""
    # The server's API with the student's cookies (200), and JupyterLab's page (the test image has
    # only jupyter_server: a 404 page, with the server's headers all the same).
    for path, expected in (('/user/%s/api/status', (200,)), ('/user/%s/lab', (200, 404))):
        status, headers, _body = student.hub.request('GET', path % student.name)
        assert status in expected, (path, status)
        csp = headers['Content-Security-Policy']
        assert frame_ancestors(csp) == ["'self'", MOODLE_ORIGIN], csp
        # No other origin (nor a wildcard) anywhere in the policy.
        assert re.findall(r'[a-z][a-z0-9+.-]*://[^\s;]*|\*', csp) == [MOODLE_ORIGIN], csp
    # The server set it in the student's browser on the first page of the server (open_server).
    xsrf = [c for c in student.hub.cookies if c.name == '_xsrf' and c.path == '/user/%s/' % student.name]
    assert len(xsrf) == 1, list(student.hub.cookies)
    assert xsrf[0].secure and xsrf[0].get_nonstandard_attr('SameSite') == 'None', vars(xsrf[0])


def test_a_wildcard_frame_ancestor_is_refused_unless_allowed(host):
    if host.backend.get_hostname() != hub_hosts()[0]:
        pytest.skip('one hub is enough: the same check of the same variables')
    name = host.backend.get_hostname()
    wildcard = json.dumps({'jupyterhub_frame_ancestors': "'self' https://*"})
    refused = playbook('playbooks/site.yml', '--limit', name, '--tags', 'preflight', '-e', wildcard)
    assert refused.returncode != 0
    assert 'jupyterhub_frame_ancestors: https://* would let any site embed the hub' in refused.stdout + refused.stderr
    allowed = playbook('playbooks/site.yml', '--limit', name, '--tags', 'preflight', '-e', wildcard,
                       '-e', '{"jupyterhub_frame_ancestors_allow_wildcard": true}')
    assert allowed.returncode == 0, allowed.stdout[-3000:]


# ------------------------------------------------------------------ the active server limit and secrets

def test_the_active_server_limit_refuses_one_server_too_many(host, student):
    if host.backend.get_hostname() != hub_hosts()[0]:
        pytest.skip('one hub is enough: the same hub configuration on every engine')
    name = host.backend.get_hostname()
    # Only the roles that render and run the hub: the play's checks run anyway.
    tags = ('--tags', 'lticontainerspawner,jupyterhub')
    limited = playbook('playbooks/site.yml', '--limit', name, *tags, '-e', 'lticontainerspawner_active_server_limit=1')
    try:
        assert limited.returncode == 0, limited.stdout[-3000:]
        wait_for_hub(hub_url(host))
        # secstudent's server runs: one more is one too many.
        late = Student(hub_url(host), 'seclate', 59)
        assert late.login()[0] == 302
        status, _headers, page = late.hub.follow('GET', '/hub/spawn')
        assert status == 429 and b'Active user limit exceeded' in page, (status, page[-1000:])
    finally:
        restored = playbook('playbooks/site.yml', '--limit', name, *tags)
        assert restored.returncode == 0, restored.stdout[-3000:]
        wait_for_hub(hub_url(host))


def cmdline_hits(needles):
    """(a needle's first 6 bytes, the command line with the needle masked) for each process whose command
    line holds one of needles (bytes). The hub's sampler runs this same source."""
    hits = []
    for pid in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                line = f.read()
        except OSError:
            continue
        hits.extend((needle[:6], line.replace(needle, b'<secret>').replace(b'\0', b' ')[:200])
                    for needle in needles if needle in line)
    return hits


SAMPLER = 'import os, time\n\n\n' + getsource(cmdline_hits) + r'''
needles = [n.encode() for n in open('/root/.lticontainer-needles').read().split()]
with open('/root/.lticontainer-seen', 'wb') as seen:
    while not os.path.exists('/root/.lticontainer-stop'):
        for short, line in cmdline_hits(needles):
            seen.write(short + b' in ' + line + b'\n')
            seen.flush()
        time.sleep(0.005)
'''


def docker_exec_stdin(name, command, data):
    """Write through docker exec's stdin, so that what is written is on no command line."""
    subprocess.run(['docker', 'exec', '-i', name, 'sh', '-c', command], input=data, text=True, check=True)


class ControllerSampler(threading.Thread):
    """Every process command line on the controller, read as fast as it goes, for the needles."""

    def __init__(self, needles):
        super().__init__(daemon=True)
        self.needles, self.seen, self.done = [n.encode() for n in needles], [], threading.Event()

    def run(self):
        while not self.done.is_set():
            self.seen.extend(short for short, _line in cmdline_hits(self.needles))
            time.sleep(0.005)


def test_a_secret_rotation_shows_no_secret_anywhere(host, tmp_path):
    """Rotate the LTI secret, the API token and the tunnel password with --diff -vvv, then back:
    no old or new value in the output, nor on any command line on the hub or the controller."""
    if host.backend.get_hostname() != hub_hosts()[0]:
        pytest.skip('one hub is enough')
    name = host.backend.get_hostname()
    new = {'jupyterhub_lti_consumer_secret': os.urandom(24).hex(), 'jupyterhub_api_token': os.urandom(24).hex()}
    new_password = os.urandom(12).hex()
    new['tunnel_user_password_hash'] = subprocess.run(['openssl', 'passwd', '-6', '-stdin'], input=new_password + '\n',
                                                      capture_output=True, text=True, check=True).stdout.strip()
    old = [os.environ['MOLECULE_LTI_CONSUMER_SECRET'], os.environ['MOLECULE_API_TOKEN'],
           os.environ['MOLECULE_TUNNEL_PASSWORD_HASH']]
    needles = old + list(new.values()) + ['calibration-' + os.urandom(8).hex()]
    rotated = tmp_path / 'rotated.yml'
    rotated.write_text(json.dumps(new))
    docker_exec_stdin(name, 'umask 077; cat > /root/.lticontainer-needles; cat > /dev/null', '\n'.join(needles))
    docker_exec_stdin(name, 'umask 077; cat > /root/.lticontainer-sampler.py', SAMPLER)
    host.check_output('rm -f /root/.lticontainer-stop /root/.lticontainer-seen')
    subprocess.run(['docker', 'exec', '-d', name, 'python3', '/root/.lticontainer-sampler.py'], check=True)
    controller = ControllerSampler(needles)
    controller.start()
    try:
        time.sleep(1)
        # The samplers see a command line that lives 50 ms.
        host.run('sh -c "sleep 0.05" %s', needles[-1])
        subprocess.run(['sh', '-c', 'sleep 0.05', needles[-1]], check=True)
        # The roles that hold these secrets (the play's checks, which see them all, run anyway).
        converge = ('playbooks/site.yml', '--limit', name, '--tags', 'tunnel_user,jupyterhub', '--diff', '-vvv')
        user = tunnel_user(host)
        runs = [playbook(*converge, '-e', '@%s' % rotated)]
        rotated_hash = host.check_output('getent shadow %s', user).split(':')[1]
        runs.append(playbook(*converge))
        restored_hash = host.check_output('getent shadow %s', user).split(':')[1]
    finally:
        controller.done.set()
        controller.join()
        host.run('touch /root/.lticontainer-stop')
        time.sleep(1)
    seen = host.file('/root/.lticontainer-seen').content_string.splitlines()
    host.check_output('rm -f /root/.lticontainer-needles /root/.lticontainer-seen /root/.lticontainer-sampler.py')
    for run in runs:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    # The rotation happened, and its diffs were shown.
    assert rotated_hash == new['tunnel_user_password_hash']
    assert restored_hash == os.environ['MOLECULE_TUNNEL_PASSWORD_HASH']
    assert 'Restarting JupyterHub on %s' % name in runs[0].stdout and 'Restarting JupyterHub' in runs[1].stdout
    assert "ltiauth_secret_key = '********'" in runs[0].stdout
    for run in runs:
        for secret in needles[:-1]:
            assert secret not in run.stdout and secret not in run.stderr
    assert [s for s in seen if s.startswith(needles[-1][:6])], seen
    assert [s for s in seen if not s.startswith(needles[-1][:6])] == [], seen
    assert set(controller.seen) == {needles[-1][:6].encode()}, controller.seen
    wait_for_hub(hub_url(host))
