"""Tests for the hub_config validation and rendering (module_utils)."""

import os
import sys
import types

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils import hub_config as hc

SECRET = 'Lti-Secret-9f8e7d6c5b4a'
TOKEN = 'Api-Tok3n-a1b2c3'

HUB = dict(
    ip_addr='192.0.2.10',
    lti_consumer_key='moodle-key',
    lti_consumer_secret=SECRET,
    api_token=TOKEN,
    ssl_cert='/etc/ssl/certs/jh.crt',
    ssl_key='/etc/ssl/private/jh.key',
    crypt_key_file='/etc/jupyterhub/crypt_key',
    image='ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser',
)
SPAWNER = dict(proxy_token_file='/etc/jupyterhub/proxy_token')

UPSTREAM_SPAWNER_NAMES = [
    'spawner_use_group', 'group_home_dir', 'user_home_dir', 'projects_dir', 'works_dir',
    'volumes_dir', 'notebook_dir', 'default_group', 'teacher_gid', 'base_id', 'act_limit',
    'cpu_limit', 'mem_limit', 'default_url', 'http_timeout', 'notice_poll', 'iframe_url',
    'proxy_should_start', 'proxy_cleanup', 'proxy_api_url', 'proxy_api_token', 'spawner_environment',
]


def check(kind, base, prefix='', **changes):
    settings = dict(base, **changes)
    return hc.validate(kind, settings, prefix)


# ------------------------------------------------------------------ validation

def test_valid_hub_gets_defaults():
    values, errors = check('hub', HUB)
    assert errors == []
    assert values['port'] == 443 and values['hub_api_port'] == 8081
    assert values['username_key'] == 'ext_user_username'
    assert values['privileged'] is False
    assert values['admin_users'] == ['admin']
    assert values['spawner_dir'] == '/usr/local/etc/ltictr'


def test_valid_spawner_gets_defaults():
    values, errors = check('spawner', SPAWNER)
    assert errors == []
    assert values['notebook_dir'] == values['user_home_dir'] == '/home/{groupname}/{username}'
    assert values['mem_limit'] == 1073741824 and values['cpu_limit'] == 1.0
    assert values['teacher_gid'] == 7000 and values['default_group'] == 'others'


@pytest.mark.parametrize('key,value', [
    ('ip_addr', 'not-an-ip'),
    ('ip_addr', '300.1.1.1'),
    ('port', 0),
    ('port', 70000),
    ('port', 'https'),
    ('hub_api_port', True),
    ('lti_consumer_key', 'has space'),
    ('lti_consumer_key', ''),
    ('lti_consumer_secret', 'short-secret'),
    ('api_token', 'abc'),
    ('ssl_cert', 'relative/cert.pem'),
    ('crypt_key_file', 'crypt_key'),
    ('username_key', 'email'),
    ('image', 'two words'),
    ('privileged', 'maybe'),
    ('start_timeout', 0),
    ('concurrent_spawn_limit', -1),
    ('admin_users', 'admin'),
    ('admin_users', ['']),
])
def test_bad_hub_value_is_refused_naming_the_variable(key, value):
    _values, errors = check('hub', HUB, 'jupyterhub_', **{key: value})
    assert len(errors) == 1
    assert errors[0].startswith('jupyterhub_%s: ' % key)


@pytest.mark.parametrize('key,value', [
    ('default_url', '/Lab'),
    ('default_url', 'lab'),
    ('default_url', '/lab?x=1'),
    ('user_home_dir', '/home/{groupname}'),
    ('group_home_dir', 'home/{groupname}'),
    ('projects_dir', 'a/b'),
    ('default_group', 'Bad Group'),
    ('teacher_gid', 999),
    ('teacher_gid', 60001),
    ('base_id', 10),
    ('act_limit', -1),
    ('cpu_limit', -0.5),
    ('cpu_limit', 'lots'),
    ('mem_limit', '1 gigabyte'),
    ('mem_limit', -1),
    ('proxy_api_url', 'ftp://localhost:8001'),
    ('proxy_api_url', 'localhost:8001'),
    ('proxy_token_file', 'token'),
    ('iframe_url', "https://*; script-src *"),
    ('environment', {'BAD NAME': 'x'}),
    ('environment', {'NB_UMASK': 31}),
])
def test_bad_spawner_value_is_refused_naming_the_variable(key, value):
    _values, errors = check('spawner', SPAWNER, 'ltictr_', **{key: value})
    assert len(errors) == 1
    assert errors[0].startswith('ltictr_%s: ' % key)


def test_equal_ports_are_refused():
    _values, errors = check('hub', HUB, 'jh_', port=8081)
    assert len(errors) == 1 and errors[0].startswith('jh_hub_api_port: ')


def test_unknown_key_is_refused():
    _values, errors = check('hub', HUB, 'jh_', proxy_api_url='http://x')
    assert errors and errors[0].startswith('jh_proxy_api_url: unknown setting')


def test_missing_required_keys_are_all_reported():
    _values, errors = hc.validate('hub', {}, 'jh_')
    reported = sorted(e.split(':')[0] for e in errors)
    assert reported == sorted('jh_' + k for k in hc.required_keys('hub'))
    assert set(hc.required_keys('hub')) == {
        'ip_addr', 'lti_consumer_key', 'lti_consumer_secret', 'api_token',
        'ssl_cert', 'ssl_key', 'crypt_key_file', 'image'}
    _values, errors = hc.validate('spawner', {}, 'jh_')
    assert errors == ['jh_proxy_token_file: is required']


@pytest.mark.parametrize('value,expected', [
    ('1G', 1073741824),
    ('512M', 536870912),
    ('2,147,483,648', 2147483648),
    ('1GiB', 1073741824),
    ('0', 0),
    (4096, 4096),
])
def test_mem_limit_is_normalised_to_bytes(value, expected):
    values, errors = check('spawner', SPAWNER, mem_limit=value)
    assert errors == [] and values['mem_limit'] == expected


@pytest.mark.parametrize('key,value', [
    ('lti_consumer_secret', 'c0fe2924dbb0f4701d898d36aaf9fd89c7a3ed3a7db6f0003d0e825a7eccb41c'),
    ('lti_consumer_secret', 'b18e82ec683724743236fade71350720029a29144a585c66f6741d8e9c6e0d83'),
    ('lti_consumer_secret', 'aaaaaaaaaaaaaaaaaaaa'),
    ('lti_consumer_secret', 'my-ChangeMe-secret-123'),
    ('api_token', 'XXXXXXXX'),
    ('api_token', 'token-EXAMPLE-1'),
    ('api_token', 'abc'),
    ('lti_consumer_key', 'ABCDEFG'),
    ('lti_consumer_key', 'example-key'),
])
def test_placeholder_or_weak_secrets_are_refused_without_echoing_them(key, value):
    _values, errors = check('hub', HUB, 'jh_', **{key: value})
    assert len(errors) == 1 and errors[0].startswith('jh_%s: ' % key)
    assert value not in errors[0]


def test_secrets_never_appear_in_any_error():
    # Everything else wrong too, so every message is produced next to the secrets.
    bad = dict(HUB, ip_addr='x', port=0, lti_consumer_secret='Sh0rt-Secret', api_token='tok 12345',
               bogus=SECRET)
    _values, errors = hc.validate('hub', bad, 'jh_')
    text = '\n'.join(errors)
    assert len(errors) == 5
    for secret in ('Sh0rt-Secret', 'tok 12345'):
        assert secret not in text


# ------------------------------------------------------------------ rendering

class _Section(types.SimpleNamespace):
    pass


class FakeConfig(dict):
    """Auto-vivifying stand-in for traitlets' Config: c.Class.trait = value."""

    def __getattr__(self, name):
        return self.setdefault(name, _Section())


def load(tmp_path, hub=None, spawner=None):
    """Render both files into tmp_path and run the hub file as JupyterHub would."""
    hub_values, errors = hc.validate('hub', dict(HUB, spawner_dir=str(tmp_path),
                                                 crypt_key_file=str(tmp_path / 'crypt_key'), **(hub or {})))
    assert errors == []
    spawner_values, errors = hc.validate('spawner', dict(SPAWNER, proxy_token_file=str(tmp_path / 'proxy_token'),
                                                         **(spawner or {})))
    assert errors == []
    (tmp_path / 'lticontainerspawner.py').write_text(
        'class LTIContainerSpawner:\n    userdata_hook = staticmethod(lambda s, a: None)\n')
    (tmp_path / 'lticontainerspawner_config.py').write_text(hc.render('spawner', spawner_values))
    (tmp_path / 'crypt_key').write_text('  crypt-key-from-file\n')
    (tmp_path / 'proxy_token').write_text('proxy-token-from-file\n')
    hub_file = tmp_path / 'jupyterhub_lticontainer_config.py'
    hub_file.write_text(hc.render('hub', hub_values))

    saved_env, saved_path, saved_mods = dict(os.environ), list(sys.path), set(sys.modules)
    c = FakeConfig()
    ns = {'__name__': '__config__', 'get_config': lambda: c}
    try:
        exec(compile(hub_file.read_text(), str(hub_file), 'exec'), ns)
        env = dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_mods:
            del sys.modules[name]
    return c, ns, env


def test_rendered_hub_config_runs_and_sets_what_moodle_needs(tmp_path):
    c, ns, env = load(tmp_path)
    assert c.LTI11Authenticator.consumers == {'moodle-key': SECRET}
    assert c.LTI11Authenticator.username_key == 'ext_user_username'
    assert c.JupyterHub.authenticator_class == 'ltiauthenticator.LTIAuthenticator'
    assert c.JupyterHub.services == [{'name': 'admin-service', 'api_token': TOKEN}]
    role, = c.JupyterHub.load_roles
    assert role['services'] == ['admin-service']
    assert sorted(role['scopes']) == sorted(
        ['list:users', 'read:users', 'read:servers', 'delete:servers', 'delete:users'])
    assert c.JupyterHub.bind_url == 'https://192.0.2.10:443'
    assert c.JupyterHub.hub_bind_url == 'http://192.0.2.10:8081'
    assert c.JupyterHub.hub_connect_ip == '192.0.2.10'
    assert c.JupyterHub.ssl_cert == '/etc/ssl/certs/jh.crt'
    assert c.JupyterHub.tornado_settings['cookie_options'] == {'SameSite': 'None', 'Secure': True}
    assert c.JupyterHub.tornado_settings['headers']['Content-Security-Policy'] == "frame-ancestors 'self' https://*"
    assert c.DockerSpawner.extra_host_config == {'privileged': False}
    assert c.DockerSpawner.image == HUB['image']
    assert c.DockerSpawner.volumes == {'/home/{groupname}/{username}': '/home/{groupname}/{username}'}
    assert c.ConfigurableHTTPProxy.auth_token == 'proxy-token-from-file'
    assert c.ConfigurableHTTPProxy.api_url == 'http://localhost:8001'
    assert c.JupyterHub.spawner_class is ns['LTIContainerSpawner']
    assert c.Spawner.auth_state_hook is ns['LTIContainerSpawner'].userdata_hook
    assert c.Spawner.mem_limit == 1073741824 and c.Spawner.default_url == '/lab'
    assert c.Spawner.environment['PRJCT_DIR'] == 'jupyter'
    assert c.LTIContainerSpawner.default_group == 'others'
    assert c.LTIContainerSpawner.use_group is True
    assert c.LTIContainerSpawner.teacher_gid == 7000
    assert c.Authenticator.admin_users == {'admin'}
    assert c.Authenticator.enable_auth_state is True
    assert env['JUPYTERHUB_CRYPT_KEY'] == 'crypt-key-from-file'
    assert env['TZ'] == 'JST-9'
    assert 'cleanup_servers' not in vars(c.JupyterHub)


def test_file_secrets_are_never_embedded(tmp_path):
    load(tmp_path)
    assert 'crypt-key-from-file' not in (tmp_path / 'jupyterhub_lticontainer_config.py').read_text()
    assert 'proxy-token-from-file' not in (tmp_path / 'lticontainerspawner_config.py').read_text()


def test_scopes_constant_is_exactly_what_moodle_calls():
    assert hc.SERVICE_SCOPES == ['list:users', 'read:users', 'read:servers', 'delete:servers', 'delete:users']


def test_settings_change_the_running_config(tmp_path):
    c, _ns, _env = load(tmp_path, hub=dict(ip_addr='2001:db8::1', port='8443', privileged='yes'),
                        spawner=dict(default_group='students', mem_limit='2,147,483,648',
                                     environment={'GRANT_SUDO': 'yes', 'EXTRA': 'x'}, proxy_should_start=False))
    assert c.JupyterHub.bind_url == 'https://[2001:db8::1]:8443'
    assert c.JupyterHub.hub_connect_ip == '2001:db8::1'
    assert c.DockerSpawner.extra_host_config == {'privileged': True}
    assert c.LTIContainerSpawner.default_group == 'students'
    assert c.Spawner.mem_limit == 2147483648
    assert c.Spawner.environment['GRANT_SUDO'] == 'yes' and c.Spawner.environment['EXTRA'] == 'x'
    assert c.Spawner.environment['NB_UMASK'] == '0037'
    assert c.ConfigurableHTTPProxy.should_start is False


def test_hostile_strings_stay_literal(tmp_path):
    evil = "x'\n\"\"\"\nraise SystemExit('escaped')\n#"
    c, _ns, _env = load(tmp_path, hub=dict(admin_users=[evil]),
                        spawner=dict(environment={'EVIL': evil}, iframe_url="https://a' \"b\\"))
    assert c.Authenticator.admin_users == {evil}
    assert c.Spawner.environment['EVIL'] == evil
    assert c.JupyterHub.tornado_settings['headers']['Content-Security-Policy'] == \
        "frame-ancestors 'self' https://a' \"b\\"


def test_spawner_file_defines_every_upstream_name(tmp_path):
    values, _errors = check('spawner', SPAWNER, proxy_token_file=str(tmp_path / 'tok'))
    (tmp_path / 'tok').write_text('t0k\n')
    ns = {}
    exec(compile(hc.render('spawner', values), 'spawner', 'exec'), ns)
    missing = [n for n in UPSTREAM_SPAWNER_NAMES if n not in ns]
    assert missing == []
    assert ns['proxy_api_token'] == 't0k'
    assert ns['spawner_environment'] == {
        'GRANT_SUDO': 'no', 'PRJCT_DIR': 'jupyter', 'WORK_DIR': 'works', 'VOLUME_DIR': '.volumes',
        'NB_UMASK': '0037', 'CONDA_DIR': '/opt/conda', 'CHOWN_HOME': 'yes', 'CHOWN_HOME_OPTS': '-R'}


def test_rendering_is_deterministic():
    values, _errors = check('hub', HUB)
    assert hc.render('hub', values) == hc.render('hub', dict(values))
    assert hc.render('hub', values).startswith('# Generated by the Ansible module lticontainer.hub.hub_config')
