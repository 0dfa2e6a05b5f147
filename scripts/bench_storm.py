#!/usr/bin/env python3
"""The launch-storm benchmark (`make bench`): N students launch at once, as from Moodle, against
the sandbox's first hub (Docker), and the hub's cost against the students' containers' is measured.

Bounded: N students (default 50, at most 100), one launch each, a deadline per launch, every
server stopped at the end. Traffic goes only to the sandbox's hub container. Reports failures,
launch-to-ready p50/p95/max, CPU seconds of the hub + proxy (their processes' counters) and of the
students' containers (the host's cgroup v1 cpuacct counters: the nested engine's containers are
siblings of the hub host),
the floor those containers' CPU sets on this machine, and the hub's CPU and memory with the N
servers idle; writes a PNG (ready-time histogram, servers ready over time) and a Markdown table."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.collections'))
# pylint: disable=wrong-import-position
from ansible_collections.lticontainer.hub.plugins.module_utils.hub_client import HubClient, server_state  # noqa: E402
from ansible_collections.lticontainer.hub.plugins.module_utils.lti_oauth import launch_fields, sign_launch  # noqa: E402

CPUACCT = '/sys/fs/cgroup/cpuacct'


def sh(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def hub_exec(hub, command):
    return sh('docker', 'exec', hub, 'sh', '-c', command)


def secrets():
    """The sandbox's Vault-encrypted secrets."""
    import yaml  # from the venv (ansible's dependency)
    inventory = os.path.join(ROOT, 'inventories', 'sandbox')
    text = sh(os.path.join(ROOT, '.venv', 'bin', 'ansible-vault'), 'view', '--vault-password-file',
              os.path.join(inventory, '.vault-pass'), os.path.join(inventory, 'group_vars', 'hubs', 'vault.yml'))
    return yaml.safe_load(text)


def cpu_seconds(paths):
    total = 0
    for path in paths:
        try:
            with open(os.path.join(path, 'cpuacct.usage')) as f:
                total += int(f.read())
        except OSError:
            pass
    return total / 1e9


def hub_cpu_seconds(hub):
    """CPU seconds the hub's and the proxy's processes used so far (user + system, from /proc inside
    the hub container: its systemd accounts no CPU per unit)."""
    out = hub_exec(hub, 'for u in jupyterhub jupyterhub-proxy; do cut -d" " -f14,15 /proc/$(systemctl show -p MainPID --value $u)/stat; done')
    return sum(int(tick) for tick in out.split()) / os.sysconf('SC_CLK_TCK')


def student_cgroups(hub):
    ids = hub_exec(hub, 'docker ps -q --no-trunc --filter name=bench').split()
    return [os.path.join(CPUACCT, 'docker', cid) for cid in ids]


def launch(url, name, user_id, custom, keys, deadline, result):
    hub = HubClient(url, validate_certs=False, timeout=60)
    start = time.monotonic()
    try:
        fields = launch_fields(str(user_id), name, 'Learner', custom=custom)
        signed = sign_launch(hub.url('/hub/lti/launch'), fields, keys['vault_lti_consumer_key'],
                             keys['vault_lti_consumer_secret'])
        status = hub.request('POST', '/hub/lti/launch', data=signed)[0]
        if status != 302:
            raise RuntimeError('launch refused: HTTP %d' % status)
        status = hub.follow('GET', '/hub/spawn')[0]
        if status >= 400:
            # 429: more servers than the hub's active_server_limit (lticontainerspawner_active_server_limit).
            raise RuntimeError('spawn refused: HTTP %d' % status)
        while time.monotonic() - start < deadline:
            status, model = hub.api('GET', '/hub/api/users/' + name, keys['vault_api_token'])
            if status == 200 and server_state(model)[0]:
                result[name] = (start, time.monotonic())
                return
            time.sleep(1)
        raise RuntimeError('not ready within %d s' % deadline)
    except Exception as err:  # pylint: disable=broad-except  # a failed launch is a result, not a crash
        result[name] = (start, err)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def plot(ready, t0, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    durations = sorted(end - start for start, end in ready)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.hist(durations, bins=20, color='#3572a5')
    left.set_xlabel('launch to ready (s)')
    left.set_ylabel('students')
    left.set_title('Ready times (%d students)' % len(durations))
    finished = sorted(end - t0 for _start, end in ready)
    right.step(finished, range(1, len(finished) + 1), where='post', color='#e07b39')
    right.set_xlabel('seconds since the storm began')
    right.set_ylabel('servers ready')
    right.set_title('Servers ready over time')
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--students', type=int, default=50)
    parser.add_argument('--hub', default='lticontainer-sandbox-hub1')
    parser.add_argument('--deadline', type=int, default=300, help='seconds a launch may take')
    parser.add_argument('--idle', type=int, default=30, help='seconds of idle measurement')
    parser.add_argument('--out', default=os.path.join(ROOT, '.cache', 'bench'))
    args = parser.parse_args()
    if not 1 <= args.students <= 100:
        parser.error('--students must be between 1 and 100')
    os.makedirs(args.out, exist_ok=True)
    fact = json.loads(hub_exec(args.hub, 'cat /etc/ansible/facts.d/lticontainer_hub.fact'))
    url, keys = fact['url'], secrets()
    image = hub_exec(args.hub, "docker images --format '{{.Repository}}:{{.Tag}}' lticontainer-singleuser").split()[0]
    names = ['bench%03d' % i for i in range(args.students)]
    custom = {'lms_sessioninfo': '1,1', 'lms_users': ','.join(names), 'lms_image': image,
              'lms_cpulimit': '0.5', 'lms_memlimit': '268435456'}
    cores = os.cpu_count()
    hub_cpu0, wall0 = hub_cpu_seconds(args.hub), time.monotonic()
    result = {}
    threads = [threading.Thread(target=launch, args=(url, name, 1000 + i, custom, keys, args.deadline, result))
               for i, name in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    storm = time.monotonic() - wall0
    hub_cpu = hub_cpu_seconds(args.hub) - hub_cpu0
    students = student_cgroups(args.hub)
    student_cpu = cpu_seconds(students)  # each container's whole life so far: its start-up
    ready = [v for v in result.values() if not isinstance(v[1], Exception)]
    failed = {name: str(v[1]) for name, v in result.items() if isinstance(v[1], Exception)}
    durations = [end - start for start, end in ready]
    # The N servers idle: the hub's CPU and memory over a quiet period.
    idle0 = hub_cpu_seconds(args.hub)
    time.sleep(args.idle)
    idle_cpu = (hub_cpu_seconds(args.hub) - idle0) / args.idle * 100
    rss = sum(int(line.split()[1]) for line in hub_exec(
        args.hub, 'for u in jupyterhub jupyterhub-proxy; do grep VmRSS /proc/$(systemctl show -p MainPID --value $u)/status; done'
    ).splitlines()) / 1024
    for name in names:
        HubClient(url, validate_certs=False).api('DELETE', '/hub/api/users/%s/server' % name, keys['vault_api_token'])
    if ready:
        plot(ready, wall0, os.path.join(args.out, 'storm.png'))
    rows = [
        ('students launched at once', args.students),
        ('ready / failed', '%d / %d' % (len(ready), len(failed))),
        ('launch to ready p50 / p95 / max (s)', '%.1f / %.1f / %.1f' % (
            statistics.median(durations), percentile(durations, 0.95), max(durations)) if durations else '-'),
        ('the storm, first launch to last ready (s)', '%.0f' % storm),
        ("CPU seconds: the students' containers (start-up)", '%.0f' % student_cpu),
        ('CPU seconds: hub + proxy during the storm', '%.1f' % hub_cpu),
        ("floor set by the containers' CPU on %d cores (s)" % cores, '%.0f' % (student_cpu / cores)),
        ('beyond that floor (s)', '%.0f' % (storm - student_cpu / cores)),
        ('hub + proxy with %d idle servers: CPU, memory' % len(ready), '%.1f %% of a core, %.0f MiB' % (idle_cpu, rss)),
    ]
    table = '| measure | value |\n| --- | --- |\n' + ''.join('| %s | %s |\n' % row for row in rows)
    with open(os.path.join(args.out, 'storm.md'), 'w') as f:
        f.write(table)
    print(table)
    for name, err in sorted(failed.items()):
        print('failed: %s: %s' % (name, err))
    print('plot: %s' % os.path.join(args.out, 'storm.png'))


if __name__ == '__main__':
    main()
