"""What a hub host must be after site.yml, and what Moodle must be able to do with it."""
import hashlib
import json
import os
import re
import shlex
import tarfile

import pytest
import testinfra

from classroom import TOKEN, HubClient
from conftest import INVENTORY, hub_hosts, moodle_hosts, playbook
from test_term import hub_url

testinfra_hosts = hub_hosts()

UPSTREAM_EXAMPLES = ('ABCDEFG', 'XXXXXXXX')
IMAGE = os.environ['MOLECULE_SINGLEUSER_IMAGE']
METRICS_TOKEN = os.environ['MOLECULE_METRICS_TOKEN']


def local_name(image):
    """An image's name without the registry part Podman (localhost/) or Docker Hub add."""
    return re.sub(r'^(localhost/|docker\.io/(library/)?)', '', image)


def engine(host):
    return host.ansible.get_variables().get('container_runtime_engine', 'docker')


def test_services_run_and_start_at_boot(host):
    for name in ({'docker': 'docker', 'podman': 'podman.socket'}[engine(host)], 'jupyterhub', 'jupyterhub-proxy',
                 'ssh', 'lticontainer-tunnel-guard', 'lticontainer-hub-guard'):
        service = host.service(name)
        assert service.is_running, name
        assert service.is_enabled, name
    # The hub starts after the engine and its proxy, so a cold boot works; the proxy is its own
    # unit, not a child of the hub, so it and the students' routes outlive a hub restart.
    after = host.check_output('systemctl show -p After --value jupyterhub').split()
    assert {'docker': 'docker.service', 'podman': 'podman.socket'}[engine(host)] in after
    assert 'jupyterhub-proxy.service' in after
    proxy = host.check_output('systemctl show -p MainPID --value jupyterhub-proxy')
    assert 'configurable-http-proxy' in host.file('/proc/%s/cmdline' % proxy).content_string
    assert 'jupyterhub-proxy.service' in host.file('/proc/%s/cgroup' % proxy).content_string


def test_pinned_stack_in_the_hubs_virtualenv(host):
    pip = host.check_output('/opt/jupyterhub/bin/pip list --format json')
    versions = {p['name'].lower(): p['version'] for p in json.loads(pip)}
    assert versions['jupyterhub'] == '4.1.6'
    assert versions['jupyterhub-ltiauthenticator'] == '1.6.3'
    assert versions['dockerspawner'] == '14.0.0'
    # Not the system Python's site-packages.
    assert host.run('/usr/bin/python3 -c "import jupyterhub"').rc != 0
    # The distribution's configurable-http-proxy (Debian's node-configurable-http-proxy), 4.x.
    assert host.check_output('configurable-http-proxy --version').startswith('4.')
    assert host.package('node-configurable-http-proxy').is_installed
    assert not host.package('npm').is_installed


def test_secrets_are_generated_and_private(host):
    for name in ('jupyterhub_crypt_key', 'proxy.env', 'jupyterhub_cookie_secret'):
        secret = host.file('/var/lib/jupyterhub/' + name)
        assert secret.exists, name
        assert secret.user == 'root' and secret.mode == 0o600, name
    assert re.fullmatch(r'[0-9A-Fa-f]{64}\n', host.file('/var/lib/jupyterhub/jupyterhub_crypt_key').content_string)
    assert re.fullmatch(r'CONFIGPROXY_AUTH_TOKEN=[0-9A-Fa-f]{64}\n', host.file('/var/lib/jupyterhub/proxy.env').content_string)
    assert host.file('/var/lib/jupyterhub').mode == 0o700
    assert host.file('/etc/ssl/private/jupyterhub.key').mode == 0o600


def test_configuration_files_hold_no_fixed_secrets(host):
    hub = host.file('/usr/local/etc/ltictr/jupyterhub_lticontainer_config.py')
    spawner = host.file('/usr/local/etc/ltictr/lticontainerspawner_config.py')
    for config in (hub, spawner):
        assert config.mode == 0o600 and config.user == 'root'
        for example in UPSTREAM_EXAMPLES:
            assert repr(example) not in config.content_string
    # The hub's own secrets stay in their files: the configs read them at start.
    crypt_key = host.file('/var/lib/jupyterhub/jupyterhub_crypt_key').content_string.strip()
    proxy_token = host.file('/var/lib/jupyterhub/proxy.env').content_string.split('=', 1)[1].strip()
    for config in (hub, spawner):
        assert crypt_key not in config.content_string and proxy_token not in config.content_string


def upstream_class_sha256():
    """The sha256 of upstream's class at the pinned commit, as the README of the archives says."""
    readme = os.path.join(os.environ.get('LTICONTAINER_UPSTREAM_DIR', ''), 'README.md')
    if not os.path.isfile(readme):
        pytest.skip('no directory of upstream archives (LTICONTAINER_UPSTREAM_DIR): the spawner came from GitHub')
    with open(readme, encoding='utf-8') as handle:
        return re.search(r'etc/lticontainerspawner\.py` in the first archive has sha256\s+`([0-9a-f]{64})`',
                         handle.read()).group(1)


def test_upstreams_spawner_installed_in_its_layout(host):
    installed = host.file('/usr/local/etc/ltictr/lticontainerspawner.py')
    assert installed.sha256sum == upstream_class_sha256()
    assert '# LTIContainerSpawner v1.4.4 for LTI' in installed.content_string
    for name in ('notice_memory.txt', 'notice_active.txt', 'notice_sticky.txt'):
        assert host.file('/usr/local/etc/ltictr/' + name).is_file, name
    for name in ('dockerpull.sh', 'dockerpush.sh', 'dockerrmi.sh'):
        assert host.file('/usr/local/bin/' + name).mode == 0o755, name
    # What verify.yml and the summary report: the version line and the sha256.
    spawner = json.loads(host.file('/etc/ansible/facts.d/lticontainer_spawner.fact').content_string)
    assert spawner['version'] == 'v1.4.4' and spawner['sha256'] == installed.sha256sum


def test_tunnel_user_is_loginless_and_may_use_the_engine(host):
    name = engine(host)
    user = host.user(name)
    assert user.home == '/home/others/' + name
    assert user.shell == '/usr/sbin/nologin'
    assert name in user.groups
    assert re.match(r'^\$6\$', user.password)


def test_spawner_groups_exist(host):
    assert host.group('others').exists
    assert host.group('TEACHER').gid == 7000


def test_engine_is_set_up_and_has_the_image(host):
    if engine(host) == 'docker':
        daemon = json.loads(host.file('/etc/docker/daemon.json').content_string)
        assert daemon['live-restore'] is True
        assert daemon['log-driver'] == 'json-file' and daemon['log-opts'] == {'max-size': '10M', 'max-file': '3'}
        assert host.run('docker image inspect %s' % IMAGE).rc == 0
    else:
        socket = host.file('/run/podman/podman.sock')
        assert socket.is_socket and socket.group == 'podman' and socket.mode == 0o660
        # The spawner speaks the Docker API at the Docker socket path.
        assert host.file('/run/docker.sock').linked_to == '/run/podman/podman.sock'
        assert host.run('podman image exists %s' % IMAGE).rc == 0


def test_hub_listens_where_moodle_and_the_containers_reach_it(host):
    address = host.ansible('setup', 'gather_subset=network')['ansible_facts']['ansible_default_ipv4']['address']
    assert host.socket('tcp://%s:443' % address).is_listening
    assert host.socket('tcp://%s:8081' % address).is_listening
    # The proxy's API only on loopback.
    assert host.socket('tcp://127.0.0.1:8001').is_listening
    assert not host.socket('tcp://0.0.0.0:8001').is_listening


def test_firewall_opens_only_ssh_the_hub_and_the_api_for_containers(host):
    if host.ansible.get_variables().get('os_base_firewall') != 'firewalld':
        pytest.skip('no firewall on this hub')
    assert set(host.check_output('firewall-cmd --list-ports').split()) == {'22/tcp', '443/tcp'}
    assert set(host.check_output('firewall-cmd --list-services').split()) <= {'ssh'}
    rules = host.check_output('firewall-cmd --list-rich-rules')
    networks = host.ansible.get_variables().get('os_base_container_networks', ['172.16.0.0/12', '10.88.0.0/16'])
    for network in networks:
        family = 'ipv6' if ':' in network else 'ipv4'
        assert 'rule family="%s" source address="%s" port port="8081" protocol="tcp" accept' % (family, network) in rules


def test_what_the_running_or_the_permanent_zone_lost_or_opened_is_mended(host):
    """The role reads the zone once and acts only on what differs: a drift in either configuration is still seen."""
    if host.ansible.get_variables().get('os_base_firewall') != 'firewalld':
        pytest.skip('no firewall on this hub')
    network = host.ansible.get_variables().get('os_base_container_networks', ['172.16.0.0/12'])[0]
    rule = 'rule family="%s" source address="%s" port port="8081" protocol="tcp" accept' % (
        'ipv6' if ':' in network else 'ipv4', network)
    host.check_output('firewall-cmd --permanent --remove-port=443/tcp')
    host.check_output('firewall-cmd --remove-rich-rule=%s', rule)
    host.check_output('firewall-cmd --permanent --add-service=dhcpv6-client')
    try:
        run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname())
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        blocks = re.split(r'^(?:TASK|RUNNING HANDLER) \[', run.stdout, flags=re.M)[1:]
        changed = [block.partition(']')[0] for block in blocks if re.search(r'^changed: ', block, re.M)]
        assert changed == ["lticontainer.hub.os_base : Open SSH and the hub's port",
                           "lticontainer.hub.os_base : Let the students' containers reach the hub API",
                           "lticontainer.hub.os_base : Close the default zone's other services"], changed
    finally:
        host.run('firewall-cmd --permanent --add-port=443/tcp')
        host.run('firewall-cmd --add-rich-rule=%s', rule)
        host.run('firewall-cmd --permanent --remove-service=dhcpv6-client')
    assert '443/tcp' in host.check_output('firewall-cmd --permanent --list-ports').split()
    assert rule in host.check_output('firewall-cmd --list-rich-rules').splitlines()
    assert 'dhcpv6-client' not in host.check_output('firewall-cmd --permanent --list-services').split()


def test_signed_launches_spawn_what_the_course_asked_for(host, launch_report):
    """verify.yml asserted each persona's container against the course and its expectations
    (image, limits, NB_* uid/gid/teacher, volumes); these are the figures it saw."""
    report = launch_report[host.backend.get_hostname()]
    assert report['wrong_secret_status'] == 401
    assert report['spawner']['version'] == 'v1.4.4'
    launches = {launch['user']: launch for launch in report['launches']}
    assert sorted(launches) == ['student01', 'student02', 'teacher01']
    for user, launch in launches.items():
        container = launch['container']
        assert launch['status'] in (302, 303) and launch['stopped'] is True, user
        assert 0 < launch['launch_to_ready_seconds'] < 120
        # Moodle sends 'repo : tag'; the spawner strips the spaces.
        assert local_name(container['image']) == IMAGE
        assert {'source': '/home/others/' + user, 'destination': '/home/others/' + user} in container['binds']
    student, teacher, outsider = launches['student01']['container'], launches['teacher01']['container'], \
        launches['student02']['container']
    assert (student['cpu_limit'], student['mem_limit']) == (0.5, 268435456)
    assert (teacher['cpu_limit'], teacher['mem_limit']) == (1.0, 536870912)
    assert (student['env']['NB_UID'], student['env']['NB_GROUP'], student['env']['NB_TEACHER']) == ('30007', 'others', '')
    assert (teacher['env']['NB_UID'], teacher['env']['NB_TEACHER'], teacher['env']['NB_UMASK']) == ('30003', 'teacher01', '0033')
    # The submit volume closed in 2023: the student lost it, the teacher kept it; only the
    # teacher gets the answers; the student missing from lms_users gets no course volume.
    assert [v['name'] for v in student['volumes']] == ['lms_vol_task_1_moodle.example.org']
    assert sorted(v['name'] for v in teacher['volumes']) == [
        'lms_sub_submit_1_moodle.example.org', 'lms_vol_answers_1_moodle.example.org',
        'lms_vol_task_1_moodle.example.org']
    assert outsider['volumes'] == [] and outsider['env']['NB_PRSNALS'] == ''
    assert student['env']['NB_PRSNALS'] == '.volumes/lms_prs_notes_1_moodle.example.org:notes'


def test_metrics_are_read_with_the_metrics_token_only(host, launch_report):
    """/hub/metrics as Prometheus scrapes it: with the read:metrics token, not without; and that
    token opens nothing else (verify.yml scraped it after its launches, see its report)."""
    metrics = launch_report[host.backend.get_hostname()]['metrics']
    assert metrics['refused_without_token'] == 403
    assert metrics['spawns'] >= 1 and metrics['spawn_seconds_buckets']['+Inf'] == metrics['spawns']
    assert metrics['running_servers'] >= 0 and metrics['hub_memory_bytes'] > 20 * 2**20
    hub = HubClient(hub_url(host), validate_certs=False)
    status, _headers, body = hub.request('GET', '/hub/metrics', headers={'Authorization': 'token ' + METRICS_TOKEN})
    assert status == 200 and b'jupyterhub_running_servers' in body
    assert hub.api('GET', '/hub/api/users', METRICS_TOKEN)[0] == 403
    assert hub.request('GET', '/hub/metrics', headers={'Authorization': 'token ' + TOKEN})[0] == 403


def test_moodle_reaches_the_engine_through_the_tunnel(host, launch_report):
    tunnel = launch_report[host.backend.get_hostname()]['launches'][0]['tunnel']
    assert tunnel['ok'] is True
    assert tunnel['user'] == engine(host)
    assert IMAGE in [local_name(image) for image in tunnel['images']]
    assert any('student01' in name for name in tunnel['containers'])
    assert 'lms_vol_task_1_moodle.example.org' in tunnel['volumes']
    assert tunnel['remote_socket'] == {'docker': '/run/docker.sock', 'podman': '/run/podman/podman.sock'}[engine(host)]


def sshd_settings(host, user, address):
    effective = host.check_output('sshd -T -C user=%s,host=client,addr=%s' % (user, address))
    return dict(line.split(' ', 1) for line in effective.splitlines())


def test_tunnel_user_sshd_settings(host):
    user = engine(host)
    moodle = testinfra.get_host('ansible://%s?ansible_inventory=%s' % (moodle_hosts()[0], INVENTORY)).ansible(
        'setup', 'gather_subset=network')['ansible_facts']['ansible_default_ipv4']['address']
    settings = sshd_settings(host, user, moodle)
    # From Moodle: the password, nothing else, a few attempts.
    assert settings['passwordauthentication'] == 'yes'
    assert settings['authenticationmethods'] == 'password'
    assert settings['pubkeyauthentication'] == 'no' and settings['authorizedkeysfile'] == 'none'
    assert settings['maxauthtries'] == '3'
    assert 'denyusers' not in settings
    assert settings['allowstreamlocalforwarding'] == 'local'
    # OpenSSH forwards Unix sockets only with local forwarding allowed; TCP is refused by nftables.
    assert settings['allowtcpforwarding'] == 'local'
    for refused in ('allowagentforwarding', 'x11forwarding', 'permittunnel', 'permittty', 'gatewayports'):
        assert settings[refused] == 'no', refused
    assert settings['permitlisten'] == 'none'
    assert settings['forcecommand'] == '/usr/sbin/nologin'
    # From anywhere else the tunnel user is denied.
    elsewhere = sshd_settings(host, user, '192.0.2.99')
    assert elsewhere['denyusers'] == '*' and elsewhere['passwordauthentication'] == 'no'
    # Other users keep the site's own settings.
    others = sshd_settings(host, 'root', '192.0.2.10')
    assert others.get('forcecommand', 'none') == 'none'
    assert others['permittty'] == 'yes'
    guard = host.check_output('nft list table inet lticontainer_tunnel')
    assert 'meta skuid %d' % host.user(user).uid in guard and 'reject' in guard
    assert 'tcp dport 22 reject' in guard
    assert host.service('lticontainer-tunnel-guard').is_enabled
    hub_guard = host.check_output('nft list table inet lticontainer_hub')
    assert 'tcp dport 8081 iifname "lo" accept' in hub_guard and 'tcp dport 8081 reject' in hub_guard
    assert host.service('lticontainer-hub-guard').is_enabled


def test_students_work_stays_on_the_hub_host(host, launch_report):
    works = host.file('/home/others/student01/jupyter/works')
    assert works.is_directory
    assert works.uid == 30007 and works.mode == 0o700
    volumes = host.check_output('%s volume ls --format "{{.Name}}"' % engine(host)).split()
    assert 'lms_vol_task_1_moodle.example.org' in volumes


HELPER = '/usr/local/bin/unlock_podman_containers'
# Podman's record of containers, as the helper edits it: it drops the entry of a student's container.
CONTAINERS_JSON = '[{"id": "0123", "names": ["jupyterhub-1-1-moodle-x-helpercheck"], "image": "i"}]'


def podman_only(host):
    if engine(host) != 'podman':
        pytest.skip('Docker hub: upstream installs unlock_podman_containers on Podman hubs only')


def test_check_mode_shows_drift_and_changes_nothing(host):
    """--check --diff on a converged hub whose guard rules an operator edited by hand: the run reports that one
    change with its diff, writes nothing, restarts nothing; and nothing else would change. Before the tests that
    converge the hub with other values."""
    rules = '/etc/lticontainer/hub-guard.nft'
    drift = '# edited by hand\n'
    original = host.file(rules).content_string
    hub_pid = host.check_output('systemctl show -p MainPID --value jupyterhub')
    host.check_output('printf %%s %s >> %s' % (shlex.quote(drift), rules))
    try:
        run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(), '--check', '--diff')
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        # What would change: the rules file, and the handler that applies the rules.
        blocks = re.split(r'^(?:TASK|RUNNING HANDLER) \[', run.stdout, flags=re.M)[1:]
        changed = [block.partition(']')[0] for block in blocks if re.search(r'^changed: ', block, re.M)]
        assert changed == ["lticontainer.hub.jupyterhub : Install the units of the ports' guard, the proxy and the hub, "
                           "the guard's rules and ltictr_proxy's configuration",
                           "lticontainer.hub.jupyterhub : Apply the guard of the hub's ports"], changed
        assert '-# edited by hand' in run.stdout
        assert host.file(rules).content_string == original + drift
        assert host.check_output('systemctl show -p MainPID --value jupyterhub') == hub_pid
    finally:
        host.check_output('printf %%s %s > %s' % (shlex.quote(original), rules))
    assert host.file(rules).content_string == original


def test_podman_helper_built_from_upstream_runs_as_root_for_the_podman_group_only(host):
    podman_only(host)
    helper = host.file(HELPER)
    assert (helper.user, helper.group, helper.mode) == ('root', 'podman', 0o4750)
    # Built from upstream's src/ at the pinned commit, against JunkBox_Lib's library built beside it.
    tree = '/usr/local/src/lticontainerspawner/0b42efd14b02619b0d34dc8326f18f50cce3686d'
    with tarfile.open(upstream_archive()) as archive:
        source = archive.extractfile('lticontainerspawner/src/unlock_podman_containers.c').read()
    assert host.file(tree + '/src/unlock_podman_containers.c').sha256sum == hashlib.sha256(source).hexdigest()
    assert host.file(tree + '/src/unlock_podman_containers').exists
    assert host.file(tree + '/JunkBox_Lib/Lib/libbasic.a').exists
    # A root-only file the podman group cannot read: the helper edits it for the tunnel user
    # (a member of that group), so it runs with root's rights; others may not run it at all.
    host.check_output("umask 077 && printf '%%s' %s > /root/containers.json", shlex.quote(CONTAINERS_JSON))
    tunnel = host.run('runuser -u podman -- %s /root/containers.json 1-1-moodle-x', HELPER)
    assert tunnel.rc == 0, tunnel
    assert json.loads(host.file('/root/containers.json').content_string) == []
    other = host.run('runuser -u nobody -- %s /root/containers.json 1-1-moodle-x', HELPER)
    assert other.rc != 0 and 'Permission denied' in other.stderr, other
    host.check_output('rm -f /root/containers.json')


def test_failed_helper_build_keeps_the_installed_helper(host, tmp_path):
    podman_only(host)
    before = host.file(HELPER).sha256sum
    # What the hub runs and what verify.yml and hub_backup read of it: the failed run changes none of it.
    kept = ('/etc/ansible/facts.d/lticontainer_spawner.fact', '/usr/local/etc/ltictr/lticontainerspawner_config.py',
            '/usr/local/etc/ltictr/lticontainerspawner.py')
    kept_sums = [host.file(path).sha256sum for path in kept]
    # Upstream's tree with a helper source that does not compile, as a local source.
    broken = tmp_path / 'lticontainerspawner-broken'
    broken.mkdir()
    with tarfile.open(upstream_archive()) as archive:
        archive.extractall(broken, filter='data')
    with open(broken / 'lticontainerspawner' / 'src' / 'unlock_podman_containers.c', 'a', encoding='utf-8') as source:
        source.write('this does not compile\n')
    run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(),
                   '-e', 'lticontainerspawner_source=local',
                   '-e', 'lticontainerspawner_local_src=%s' % (broken / 'lticontainerspawner'))
    assert run.returncode != 0
    # The build is the last task that ran, and it failed (the callback writes failures to stderr).
    last_task = run.stdout.rpartition('TASK [')[2]
    assert last_task.startswith('lticontainer.hub.lticontainerspawner : Build unlock_podman_containers]'), last_task
    assert 'fatal:' in run.stderr and 'this does not compile' in run.stderr, run.stderr[-3000:]
    helper = host.file(HELPER)
    assert helper.sha256sum == before and helper.mode == 0o4750
    assert [host.file(path).sha256sum for path in kept] == kept_sums
    assert host.service('jupyterhub').is_running
    host.check_output('rm -rf /usr/local/src/lticontainerspawner/lticontainerspawner')


def upstream_archive():
    path = os.path.join(os.environ.get('LTICONTAINER_UPSTREAM_DIR', ''), 'lticontainerspawner-0b42efd.tar.gz')
    if not os.path.isfile(path):
        pytest.skip('no directory of upstream archives (LTICONTAINER_UPSTREAM_DIR)')
    return path


def test_bad_input_fails_before_anything_changes(host):
    config = '/usr/local/etc/ltictr/jupyterhub_lticontainer_config.py'
    before = host.file(config).sha256sum
    run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(),
                   '-e', 'jupyterhub_api_token=XXXXXXXX', '-e', 'jupyterhub_lti_consumer_secret=short')
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert 'jupyterhub_api_token' in output and 'jupyterhub_lti_consumer_secret' in output
    assert re.search(r'changed=0\s', run.stdout), run.stdout[-2000:]
    # Stopped by the play's checks: not even os_base, the first role, started.
    assert 'Check each role' in run.stdout and 'lticontainer.hub.os_base : Install base packages' not in run.stdout
    assert host.file(config).sha256sum == before
    assert host.service('jupyterhub').is_running


@pytest.mark.parametrize('missing', ['jupyterhub_lti_consumer_secret', 'tunnel_user_password_hash'])
def test_missing_secret_says_how_to_provide_it(host, missing):
    run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(), '--tags', 'preflight',
                   '-e', '{"%s": null}' % missing)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert missing in output and 'ansible-vault' in output


def test_each_role_runs_alone(host, roles_alone):
    """molecule/shared/roles-alone.yml applies each role in a play of its own to the converged
    hub: each resolves its inputs without the others' defaults, and finds nothing to change."""
    assert roles_alone.returncode == 0, roles_alone.stdout[-4000:] + roles_alone.stderr[-2000:]
    recap = re.search(r'^%s\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0' % re.escape(host.backend.get_hostname()),
                      roles_alone.stdout, re.M)
    assert recap and recap.group(1) == '0', roles_alone.stdout[-4000:]
    for role in ('os_base', 'container_runtime', 'tls', 'tunnel_user', 'lticontainerspawner', 'jupyterhub'):
        assert 'PLAY [The %s role alone]' % role in roles_alone.stdout
