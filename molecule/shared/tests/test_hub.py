"""What a hub host must be after site.yml, and what Moodle must be able to do with it."""
import json
import os
import re

import pytest

from conftest import hub_hosts, playbook

testinfra_hosts = hub_hosts()

UPSTREAM_EXAMPLES = ('ABCDEFG', 'XXXXXXXX')
IMAGE = os.environ['MOLECULE_SINGLEUSER_IMAGE']


def test_services_run_and_start_at_boot(host):
    for name in ('docker', 'jupyterhub', 'ssh'):
        service = host.service(name)
        assert service.is_running, name
        assert service.is_enabled, name


def test_pinned_stack_in_the_hubs_virtualenv(host):
    pip = host.check_output('/opt/jupyterhub/bin/pip list --format json')
    versions = {p['name'].lower(): p['version'] for p in json.loads(pip)}
    assert versions['jupyterhub'] == '4.1.6'
    assert versions['jupyterhub-ltiauthenticator'] == '1.6.3'
    assert versions['dockerspawner'] == '14.0.0'
    # Not the system Python's site-packages.
    assert host.run('/usr/bin/python3 -c "import jupyterhub"').rc != 0
    assert host.check_output('configurable-http-proxy --version').startswith('4.')


def test_secrets_are_generated_and_private(host):
    for name in ('jupyterhub_crypt_key', 'proxy_auth_token', 'jupyterhub_cookie_secret'):
        secret = host.file('/var/lib/jupyterhub/' + name)
        assert secret.exists, name
        assert secret.user == 'root' and secret.mode == 0o600, name
    assert re.fullmatch(r'[0-9A-Fa-f]{64}\n', host.file('/var/lib/jupyterhub/jupyterhub_crypt_key').content_string)
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
    proxy_token = host.file('/var/lib/jupyterhub/proxy_auth_token').content_string.strip()
    assert crypt_key not in hub.content_string
    assert proxy_token not in spawner.content_string


def test_spawner_installed_in_upstreams_layout(host):
    for name in ('lticontainerspawner.py', 'notice_memory.txt', 'notice_active.txt', 'notice_sticky.txt'):
        assert host.file('/usr/local/etc/ltictr/' + name).is_file, name
    for name in ('dockerpull.sh', 'dockerpush.sh', 'dockerrmi.sh'):
        assert host.file('/usr/local/bin/' + name).mode == 0o755, name


def test_tunnel_user_is_loginless_and_may_use_the_engine(host):
    user = host.user('docker')
    assert user.home == '/home/others/docker'
    assert user.shell == '/usr/sbin/nologin'
    assert 'docker' in user.groups
    assert re.match(r'^\$6\$', user.password)


def test_spawner_groups_exist(host):
    assert host.group('others').exists
    assert host.group('TEACHER').gid == 7000


def test_engine_keeps_containers_across_restarts_and_has_the_image(host):
    daemon = json.loads(host.file('/etc/docker/daemon.json').content_string)
    assert daemon['live-restore'] is True
    assert host.run('docker image inspect %s' % IMAGE).rc == 0


def test_hub_listens_where_moodle_and_the_containers_reach_it(host):
    address = host.ansible('setup', 'gather_subset=network')['ansible_facts']['ansible_default_ipv4']['address']
    assert host.socket('tcp://%s:443' % address).is_listening
    assert host.socket('tcp://%s:8081' % address).is_listening


def test_signed_launch_spawns_a_limited_container(host, launch_report):
    report = launch_report[host.backend.get_hostname()]
    container = report['container']
    assert report['status'] in (302, 303)
    assert 0 < report['launch_to_ready_seconds'] < 120
    # Moodle sends 'repo : tag'; the spawner strips the spaces.
    assert container['image'] == IMAGE
    assert container['cpu_limit'] == 0.5
    assert container['mem_limit'] == 268435456
    assert sorted(v['name'] for v in container['volumes']) == [
        'lms_sub_submit_1_moodle.example.org', 'lms_vol_task_1_moodle.example.org']
    assert report['stopped'] is True
    assert report['wrong_secret_status'] == 401


def test_students_work_stays_on_the_hub_host(host, launch_report):
    works = host.file('/home/others/student01/jupyter/works')
    assert works.is_directory
    assert works.uid == 30007 and works.mode == 0o700
    volumes = host.check_output('docker volume ls --format "{{.Name}}"').split()
    assert 'lms_vol_task_1_moodle.example.org' in volumes


def test_bad_input_fails_before_anything_changes(host):
    config = '/usr/local/etc/ltictr/jupyterhub_lticontainer_config.py'
    before = host.file(config).sha256sum
    run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(),
                   '-e', 'jupyterhub_api_token=XXXXXXXX', '-e', 'jupyterhub_hub_api_port=443')
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert 'jupyterhub_api_token' in output and 'jupyterhub_hub_api_port' in output
    assert re.search(r'changed=0\s', run.stdout), run.stdout[-2000:]
    assert host.file(config).sha256sum == before
    assert host.service('jupyterhub').is_running


@pytest.mark.parametrize('missing', ['jupyterhub_lti_consumer_secret', 'tunnel_user_password_hash'])
def test_missing_secret_says_how_to_provide_it(host, missing):
    run = playbook('playbooks/site.yml', '--limit', host.backend.get_hostname(), '--tags', 'preflight',
                   '-e', '{"%s": null}' % missing)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert missing in output and 'ansible-vault' in output
