"""A hub's upkeep over a term, on the first hub of the scenario: upgrades (playbooks/upgrade.yml) that keep
the students' users, auth_state, homes and running servers; failed upgrades that leave the hub on its
previous versions and database, running, and stop the rollout; and a backup (playbooks/backup.yml)
restored (playbooks/restore.yml) onto the hub host destroyed and built again by site.yml.

The tests run in order and share the classroom a module fixture sets up. This module runs after the
others (its name sorts last): the hub host it leaves is a rebuilt and restored one."""
import hashlib
import json
import os
import re
import subprocess
import tarfile

import pytest
import testinfra

from classroom import Student, wait_for_hub
from conftest import INVENTORY, PROJECT, hub_hosts, playbook

testinfra_hosts = hub_hosts()[:1]

# An older stack that installs and runs together (checked on PyPI), and what the inventory pins.
OLD = {'jupyterhub': '4.0.2', 'jupyterhub-ltiauthenticator': '1.6.2', 'dockerspawner': '13.0.0'}
PINNED = {'jupyterhub': '4.1.6', 'jupyterhub-ltiauthenticator': '1.6.3', 'dockerspawner': '14.0.0'}
OLD_VARS = ['-e', 'jupyterhub_version=4.0.2', '-e', 'jupyterhub_ltiauthenticator_version=1.6.2',
            '-e', 'jupyterhub_dockerspawner_version=13.0.0']
TOKEN = os.environ['MOLECULE_API_TOKEN']
SECRETS = [os.environ[name] for name in ('MOLECULE_API_TOKEN', 'MOLECULE_LTI_CONSUMER_SECRET')]

# On the hub: every file, directory and link under a path, as {relative path: [kind, uid, gid, mode,
# size, sha256 or link target]}, leaving out the paths given after it.
TREE = r'''
import hashlib, json, os, stat, sys
root, skip = sys.argv[1], sys.argv[2:]
def entry(path):
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        what = ['link', os.readlink(path)]
    elif stat.S_ISDIR(st.st_mode):
        what = ['dir', None]
    else:
        what = ['file', hashlib.sha256(open(path, 'rb').read()).hexdigest()]
    return [what[0], st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode)), st.st_size if what[0] == 'file' else 0, what[1]]
out = {}
for top, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
    for name in dirs + files:
        path = os.path.join(top, name)
        out[os.path.relpath(path, root)] = entry(path)
print(json.dumps(out, sort_keys=True))
'''

# On the hub, with the hub's own Python: every user's auth_state, decrypted with the crypt key in the
# hub's state directory, from the database as the hub keeps it.
AUTH_STATE = r'''
import asyncio, json, os, sqlite3, sys
db, key = sys.argv[1], sys.argv[2]
os.environ['JUPYTERHUB_CRYPT_KEY'] = open(key).read().strip()
from jupyterhub.crypto import decrypt
rows = sqlite3.connect('file:%s?mode=ro' % db, uri=True).execute(
    'SELECT name, encrypted_auth_state FROM users WHERE encrypted_auth_state IS NOT NULL').fetchall()
async def main():
    return {name: await decrypt(blob) for name, blob in rows}
print(json.dumps(asyncio.run(main()), sort_keys=True))
'''


def facts(host):
    return host.ansible('setup', 'gather_subset=!all,local')['ansible_facts']['ansible_local']


def engine(host):
    return host.ansible.get_variables()['container_runtime_engine']


def pip_versions(host):
    listed = json.loads(host.check_output('/opt/jupyterhub/bin/pip list --format json'))
    return {p['name'].lower(): p['version'] for p in listed if p['name'].lower() in PINNED}


def tree(host, path, *skip):
    return json.loads(host.check_output('python3 -c %s %s ' + ' '.join(['%s'] * len(skip)), TREE, path, *skip))


def auth_states(host):
    hub = facts(host)['lticontainer_hub']
    return json.loads(host.check_output('%s/bin/python -c %s %s %s', hub['venv'], AUTH_STATE, hub['db'],
                                        hub['secrets']['crypt_key']))


def user_names(host):
    """GET /hub/api/users with Moodle's API token: the users the hub knows."""
    hub = Student(facts(host)['lticontainer_hub']['url'], 'nobody', 0).hub
    status, users = hub.api('GET', '/hub/api/users', TOKEN)
    assert status == 200, status
    return sorted(user['name'] for user in users)


def container_of(host, name):
    """Id of the student's running container (the spawner names it ...-NAME)."""
    out = host.check_output('%s ps --no-trunc --format "{{.ID}} {{.Names}}"' % engine(host))
    ids = [line.split()[0] for line in out.splitlines() if line.endswith('-' + name)]
    assert len(ids) == 1, out
    return ids[0]


def volume_dir(host, name):
    return host.check_output('%s volume inspect -f "{{.Mountpoint}}" %s' % (engine(host), name))


def recap(run):
    """{host: {'ok': n, 'changed': n, 'failed': n, ...}} from a playbook's PLAY RECAP."""
    return {m.group(1): dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', m.group(2)))
            for m in re.finditer(r'^(\S+)\s+:\s+(ok=.*)$', run.stdout, re.M)}


def mounts(host, container):
    return json.loads(host.check_output('%s inspect -f "{{json .Mounts}}" %s' % (engine(host), container)))


def failure(run):
    """Where the callback may write a failed task's message: stdout's JSON escapes its quotes, and under
    Molecule's verifier the [ERROR] line that keeps them goes to stderr."""
    return run.stdout + run.stderr


def task_results(run, task):
    """The result lines (ok, changed, skipping, fatal ...) a task printed in a playbook's output."""
    found = re.search(r'^(?:TASK|RUNNING HANDLER) \[%s\]' % re.escape(task), run.stdout, re.M)
    section = run.stdout[found.end():] if found else ''
    section = re.split(r'\n(?:TASK|RUNNING HANDLER|PLAY RECAP) ', section, maxsplit=1)[0]
    return re.findall(r'^(ok|changed|skipping|fatal|failed):', section, re.M)


def write_file(host, path, size, uid, mode):
    """Random bytes, so that a byte-equal copy after a restore cannot be a coincidence."""
    host.check_output('head -c %s /dev/urandom > %s && chown %s:others %s && chmod %s %s',
                      str(size), path, str(uid), path, mode, path)


def kept(before, after):
    """Everything in before is in after, unchanged (after may hold more: the proving launch's user)."""
    assert set(before['users']) <= set(after['users'])
    for part in ('auth_state', 'homes', 'volume'):
        assert {k: after[part].get(k) for k in before[part]} == before[part], part


class Classroom:
    """What students left on the hub: users with auth_state, a running server, homes, a submission."""

    def __init__(self, host):
        self.host = host
        self.name = host.backend.get_hostname()
        self.url = facts(host)['lticontainer_hub']['url']
        self.tunnel_home = facts(host)['lticontainer_tunnel']['home']
        self.homes = facts(host)['lticontainer_spawner']['home_dirs'][0]
        self.student = Student(self.url, 'upkeep01', 61, custom={'lms_sub_upkeep': 'upkeep'})
        self.other = Student(self.url, 'upkeep02', 62)

    def set_up(self):
        self.student.launch()
        self.student.open_server()
        self.started = json.loads(self.student.status()[1])['started']
        self.container = container_of(self.host, 'upkeep01')
        # A second student whose server is stopped: a user with auth_state and a home only.
        self.other.launch()
        assert self.other.stop() in (202, 204)
        works = '%s/upkeep01/jupyter/works' % self.homes
        self.host.check_output('mkdir -p %s/private && chown 30061:others %s/private && chmod 0700 %s/private',
                               works, works, works)
        write_file(self.host, works + '/results.bin', 200000, 30061, '0640')
        write_file(self.host, works + '/private/answers.txt', 3000, 30061, '0600')
        self.host.check_output('ln -sfn private/answers.txt %s/latest', works)
        # The course's submit volume the spawner mounted for the student, and a submission in it.
        volumes = [m['Name'] for m in mounts(self.host, self.container) if m['Type'] == 'volume']
        assert len(volumes) == 1 and volumes[0].startswith('lms_sub_upkeep_'), volumes
        self.volume = volumes[0]
        write_file(self.host, volume_dir(self.host, self.volume) + '/upkeep01-report.pdf', 50000, 30061, '0644')

    def state(self):
        """What must survive: users, auth_state, homes (owners, modes, bytes), the submission volume."""
        return {
            'users': user_names(self.host),
            'auth_state': auth_states(self.host),
            'homes': tree(self.host, self.homes, self.tunnel_home),
            'volume': tree(self.host, volume_dir(self.host, self.volume)),
        }

    def still_running(self):
        """The server started before answers the student's session, from the same container."""
        wait_for_hub(self.url)
        status, body = self.student.status()
        assert status == 200, body
        assert json.loads(body)['started'] == self.started
        assert container_of(self.host, 'upkeep01') == self.container
        assert self.student.model()['servers']['']['ready'] is True


@pytest.fixture(scope='module')
def classroom(host):
    """The first hub on the older stack, with students' users, work and a running server."""
    name = host.backend.get_hostname()
    older = playbook('playbooks/site.yml', '--limit', name, '--tags', 'jupyterhub', *OLD_VARS)
    assert older.returncode == 0, older.stdout[-3000:]
    assert pip_versions(host) == OLD
    room = Classroom(host)
    room.set_up()
    room.before = room.state()
    assert {'upkeep01', 'upkeep02'} <= set(room.before['users'])
    assert room.before['auth_state']['upkeep01']['user_id'] == '61'
    return room


def test_an_upgrade_keeps_users_auth_state_homes_and_running_servers(host, classroom):
    run = playbook('playbooks/upgrade.yml', '--limit', classroom.name)
    assert run.returncode == 0, run.stdout[-4000:]
    assert pip_versions(host) == PINNED
    versions = facts(host)['lticontainer_hub']['versions']
    assert (versions['jupyterhub'], versions['ltiauthenticator'], versions['dockerspawner']) == ('4.1.6', '1.6.3', '14.0.0')
    # The order the operator relies on: database copied, hub stopped, stack upgraded, upgrade-db, start, launch.
    steps = [run.stdout.index(task) for task in (
        'Copy the database consistently while the hub runs', 'lticontainer.hub.jupyterhub : Stop the hub',
        "Install JupyterHub, ltiauthenticator and dockerspawner in the hub's virtualenv",
        "Upgrade the hub's database to the installed JupyterHub", 'lticontainer.hub.jupyterhub : Restart the hub',
        'Launch as Moodle does')]
    assert steps == sorted(steps), run.stdout[-4000:]
    assert task_results(run, "lticontainer.hub.jupyterhub : Upgrade the hub's database to the installed JupyterHub") in (['ok'], ['changed'])
    assert 'runs jupyterhub 4.1.6, ltiauthenticator 1.6.3, dockerspawner 14.0.0' in ' '.join(run.stdout.split())
    kept(classroom.before, classroom.state())
    classroom.still_running()
    assert not any(secret in run.stdout for secret in SECRETS)


def test_a_version_that_does_not_exist_stops_the_rollout_and_leaves_the_hub_as_it_was(host, classroom):
    # Every hub of the scenario: the first fails, later batches must not be touched.
    others = {name: testinfra.get_host('ansible://%s?ansible_inventory=%s' % (name, INVENTORY))
              for name in hub_hosts()[1:]}
    others_before = {name: (pip_versions(other), facts(other)['lticontainer_hub']['versions'])
                     for name, other in others.items()}
    versions = (pip_versions(host), facts(host)['lticontainer_hub']['versions'])
    run = playbook('playbooks/upgrade.yml', '-e', 'jupyterhub_version=4.99.99')
    assert run.returncode != 0
    assert recap(run) == {classroom.name: recap(run)[classroom.name]}, run.stdout[-3000:]
    assert recap(run)[classroom.name]['failed'] == 1 and recap(run)[classroom.name]['rescued'] == 1
    assert 'The upgrade of %s failed at "Install JupyterHub' % classroom.name in failure(run)
    assert (pip_versions(host), facts(host)['lticontainer_hub']['versions']) == versions
    assert host.service('jupyterhub').is_running and host.service('jupyterhub-proxy').is_running
    kept(classroom.before, classroom.state())
    classroom.still_running()
    for name, other in others.items():
        assert (pip_versions(other), facts(other)['lticontainer_hub']['versions']) == others_before[name], name


def test_an_upgrade_that_cannot_launch_is_rolled_back(host, classroom):
    """A stack that installs (4.1.5) with a default image the engine does not have (allowed, so that the
    checks pass): the proving launch fails after the virtualenv, the spawner's configuration and the
    database changed; all three come back."""
    spawner_config = facts(host)['lticontainer_spawner']['config_file']
    config_before = host.file(spawner_config).sha256sum
    versions = (pip_versions(host), facts(host)['lticontainer_hub']['versions'])
    assert versions[0]['jupyterhub'] != '4.1.5'
    run = playbook('playbooks/upgrade.yml', '--limit', classroom.name, '-e', 'jupyterhub_version=4.1.5',
                   '-e', 'lticontainerspawner_image=127.0.0.1:1/lticontainer-missing:none',
                   '-e', '{"lticontainerspawner_allowed_image_patterns": ["127.0.0.1:1/*"]}')
    assert run.returncode != 0
    assert 'The upgrade of %s failed at "Launch as Moodle does' % classroom.name in failure(run), failure(run)[-3000:]
    # It had really changed the hub before the launch failed: stack, spawner configuration, database schema check.
    assert task_results(run, "lticontainer.hub.jupyterhub : Install JupyterHub, ltiauthenticator and dockerspawner in the hub's virtualenv") \
        == ['changed']
    assert task_results(run, 'lticontainer.hub.lticontainerspawner : Render the spawner configuration') == ['changed']
    assert (pip_versions(host), facts(host)['lticontainer_hub']['versions']) == versions
    assert host.file(spawner_config).sha256sum == config_before
    assert 'lticontainer-missing' not in host.file(spawner_config).content_string
    assert host.service('jupyterhub').is_running
    kept(classroom.before, classroom.state())
    classroom.still_running()
    # The hub works for everyone again: the rolled-back default image starts a new server.
    again = Student(classroom.url, 'upkeep03', 63)
    assert again.launch()['ready']
    assert again.stop() in (202, 204)
    classroom.before['users'] = user_names(host)
    classroom.before['auth_state'] = auth_states(host)


def test_a_backup_restored_onto_a_rebuilt_hub_brings_everything_back(host, classroom, tmp_path):
    backups = tmp_path / 'backups'
    before = classroom.state()
    crypt_key = host.file(facts(host)['lticontainer_hub']['secrets']['crypt_key']).content_string
    backed = playbook('playbooks/backup.yml', '--limit', classroom.name, '-e', 'hub_backup_dir=%s' % backups)
    assert backed.returncode == 0, backed.stdout[-3000:]
    archives = list(backups.iterdir())
    assert len(archives) == 1 and re.fullmatch(re.escape(classroom.name) + r'-\d{8}T\d{6}Z\.tar\.gz', archives[0].name)
    assert oct(archives[0].stat().st_mode & 0o777) == '0o600' and oct(backups.stat().st_mode & 0o777) == '0o700'
    with tarfile.open(archives[0]) as archive:
        names = {name.split('/', 1)[1] for name in archive.getnames() if '/' in name}
    assert {'manifest.json', 'db/jupyterhub.sqlite', 'secrets/crypt_key', 'secrets/cookie_secret', 'secrets/proxy_env',
            'config/jupyterhub_lticontainer_config.py', 'config/lticontainerspawner_config.py',
            'homes/_home_others.tar', 'volumes/%s.tar' % classroom.volume} <= names
    for secret in SECRETS + [crypt_key.strip()]:
        assert secret not in backed.stdout

    # The hub host and its engine's volumes are gone; site.yml builds it again.
    image = subprocess.run(['docker', 'inspect', '-f', '{{.Config.Image}}', classroom.name],
                           capture_output=True, text=True, check=True).stdout.strip()
    hubhost = os.path.join(PROJECT, 'scripts', 'hubhost.sh')
    subprocess.run([hubhost, 'down', classroom.name], check=True, capture_output=True)
    subprocess.run([hubhost, 'up', classroom.name, image], check=True, capture_output=True)
    rebuilt = playbook('playbooks/site.yml', '--limit', classroom.name)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert classroom.student.name not in user_names(host)
    assert host.file(facts(host)['lticontainer_hub']['secrets']['crypt_key']).content_string != crypt_key

    restored = playbook('playbooks/restore.yml', '--limit', classroom.name, '-e', 'hub_backup_dir=%s' % backups)
    assert restored.returncode == 0, restored.stdout[-3000:]
    for secret in SECRETS + [crypt_key.strip()]:
        assert secret not in restored.stdout
    assert host.file(facts(host)['lticontainer_hub']['secrets']['crypt_key']).content_string == crypt_key
    after = classroom.state()
    # Users through the API, auth_state decrypted with the restored key, homes and the submission
    # volume byte for byte with their owners and modes.
    assert after['users'] == before['users']
    assert after['auth_state'] == before['auth_state']
    assert after['homes'] == before['homes']
    assert after['volume'] == before['volume']

    # The student launches again (the new host may have a new address) and downloads the work and the
    # submission from the new server, as a browser does: the server serves them from the restored home
    # and volume.
    student = Student(facts(host)['lticontainer_hub']['url'], 'upkeep01', 61, custom={'lms_sub_upkeep': 'upkeep'})
    assert student.launch()['ready']
    student.open_server()
    home = '%s/upkeep01' % classroom.homes
    volume = [m['Destination'] for m in mounts(host, container_of(host, 'upkeep01')) if m.get('Name') == classroom.volume]
    assert len(volume) == 1 and volume[0].startswith(home + '/'), volume
    for path, sha256 in (('jupyter/works/results.bin', before['homes']['upkeep01/jupyter/works/results.bin'][5]),
                         (volume[0][len(home) + 1:] + '/upkeep01-report.pdf', before['volume']['upkeep01-report.pdf'][5])):
        status, _headers, body = student.hub.request('GET', '/user/upkeep01/files/' + path)
        assert status == 200 and hashlib.sha256(body).hexdigest() == sha256, (path, status)
    assert student.stop() in (202, 204)
