"""Tests for the hub_config validation and rendering (module_utils)."""

import os
import sys
import types

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils import hub_config as hc

SECRET = 'Lti-Secret-9f8e7d6c5b4a'
TOKEN = 'Api-Tok3n-a1b2c3'

HUB = dict(
    ip_addr='192.0.2.10', port=443, hub_api_port=8081, proxy_api_port=8001,
    proxy_env_file='/var/lib/jupyterhub/proxy.env', proxy='configurable-http-proxy',
    lti_consumer_key='moodle-key', lti_consumer_secret=SECRET, api_token=TOKEN,
    time_zone='JST-9', username_key='ext_user_username',
    crypt_key_file='/var/lib/jupyterhub/crypt_key', cookie_secret_file='/var/lib/jupyterhub/cookie_secret',
    db_url='sqlite:////var/lib/jupyterhub/jupyterhub.sqlite', concurrent_spawn_limit=200,
    admin_users=[], frame_ancestors="'self' https://moodle.example.ac.jp", frame_ancestors_allow_wildcard=False,
)
SPAWNER = dict(
    spawner_dir='/usr/local/etc/ltictr', image='ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser',
    privileged=False, start_timeout=120, http_timeout=60, use_group=True,
    group_home_dir='/home/{groupname}', user_home_dir='/home/{groupname}/{username}',
    projects_dir='jupyter', works_dir='works', volumes_dir='.volumes', default_group='others',
    teacher_group='TEACHER', teacher_gid=7000, base_id=30000, act_limit=6000, cpu_limit=1.0,
    mem_limit='1G', default_url='/lab', notice_poll=60,
    allowed_images=['ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser:latest', 'python:3.12'],
    allowed_image_patterns=['ghcr.io/myuni/*'], max_cpu_limit=2.0, max_mem_limit='4G', pids_limit=1024,
    no_new_privileges=True, active_server_limit='auto', username_pattern=r'[a-z0-9_][a-z0-9_.@-]{0,99}',
    reserved_names=['admin', 'root', 'docker', 'podman'], moodle_origin='https://moodle.example.ac.jp',
)

# Upstream's class as far as the rendered file uses it: userdata_hook, and get_args as upstream's
# (DockerSpawner's arguments, its own tornado_settings dropped, then its own appended as JSON).
UPSTREAM_STAND_IN = '''import json


class DockerSpawner:
    def get_args(self):
        return ['--ServerApp.tornado_settings={"dropped":1}', '--debug']


class LTIContainerSpawner(DockerSpawner):
    userdata_hook = staticmethod(lambda s, a: None)

    def get_args(self):
        args = [a for a in super().get_args() if not a.startswith('--ServerApp.tornado_settings=')]
        args.append('--SingleUserNotebookApp.default_url=/lab')
        settings = {'page_config_data': {'jnotice': {'path': 'jupyter/works/.jnotice.txt', 'pollMs': 60000}}}
        args.append('--ServerApp.tornado_settings=' + json.dumps(settings, separators=(',', ':')))
        return args
'''


def check(kind, base, prefix='', **changes):
    settings = dict(base, **changes)
    return hc.validate(kind, settings, prefix)


# ------------------------------------------------------------------ validation

def test_valid_settings_get_only_the_optional_defaults():
    values, errors = check('hub', HUB)
    assert errors == []
    assert values['spawner_config'] is None and values['watch_files'] == []
    values, errors = check('spawner', SPAWNER)
    assert errors == []
    assert values['environment'] == {} and values['mem_limit'] == 1073741824


def test_every_role_owned_setting_is_required():
    # The roles own these values: the module has no second copy of their defaults.
    assert set(hc.required_keys('hub')) == set(HUB)
    assert set(hc.required_keys('spawner')) == set(SPAWNER)
    for kind in hc.KINDS:
        _values, errors = hc.validate(kind, {}, 'x_')
        assert sorted(e.split(':')[0] for e in errors) == sorted('x_' + k for k in hc.required_keys(kind))


@pytest.mark.parametrize('key,value', [
    ('ip_addr', 'not-an-ip'),
    ('ip_addr', '300.1.1.1'),
    ('ip_addr', '[2001:db8::1]'),
    ('ip_addr', '::'),
    ('ip_addr', '0.0.0.0'),
    ('port', 0),
    ('port', 70000),
    ('port', 'https'),
    ('hub_api_port', True),
    ('proxy_api_port', -1),
    ('proxy_env_file', 'proxy.env'),
    ('proxy', 'traefik'),
    ('lti_consumer_key', 'has space'),
    ('lti_consumer_key', ''),
    ('lti_consumer_secret', 'short-secret'),
    ('api_token', 'abc'),
    ('crypt_key_file', 'crypt_key'),
    ('username_key', 'email'),
    ('concurrent_spawn_limit', -1),
    ('admin_users', 'admin'),
    ('admin_users', ['']),
    ('frame_ancestors', "https://*; script-src *"),
    ('frame_ancestors', "'self' https://*"),
    ('frame_ancestors', "'self' https:"),
    ('frame_ancestors', "*"),
    ('frame_ancestors', "'self' https://*.example.ac.jp"),
    ('frame_ancestors_allow_wildcard', 'perhaps'),
    ('spawner_config', 'relative.py'),
    ('watch_files', ['/ok', 'relative']),
    ('watch_files', '/not/a/list'),
])
def test_bad_hub_value_is_refused_naming_the_variable(key, value):
    _values, errors = check('hub', HUB, 'jupyterhub_', **{key: value})
    assert len(errors) == 1
    assert errors[0].startswith('jupyterhub_%s: ' % key)


@pytest.mark.parametrize('key,value', [
    ('spawner_dir', 'etc/ltictr'),
    ('image', 'two words'),
    ('privileged', 'maybe'),
    ('start_timeout', 0),
    ('default_url', '/Lab'),
    ('default_url', 'lab'),
    ('default_url', '/lab?x=1'),
    ('user_home_dir', '/home/{groupname}'),
    ('group_home_dir', 'home/{groupname}'),
    ('projects_dir', 'a/b'),
    ('default_group', 'Bad Group'),
    ('teacher_group', 'two words'),
    ('teacher_gid', 999),
    ('teacher_gid', 60001),
    ('base_id', 10),
    ('act_limit', -1),
    ('cpu_limit', -0.5),
    ('cpu_limit', 'lots'),
    ('cpu_limit', 0),
    ('cpu_limit', 2.5),
    ('max_cpu_limit', 'inf'),
    ('mem_limit', '1 gigabyte'),
    ('mem_limit', -1),
    ('mem_limit', 0),
    ('mem_limit', '8G'),
    ('max_mem_limit', 'lots'),
    ('image', 'evil/image:1'),
    ('allowed_images', []),
    ('allowed_images', ['two words']),
    ('allowed_image_patterns', 'ghcr.io/*'),
    ('pids_limit', 0),
    ('pids_limit', 'many'),
    ('active_server_limit', 'some'),
    ('active_server_limit', -1),
    ('no_new_privileges', 'maybe'),
    ('username_pattern', '.*'),
    ('username_pattern', '[a-z.]+'),
    ('username_pattern', '[^/]+'),
    ('username_pattern', '('),
    ('reserved_names', 'admin'),
    ('reserved_names', ['']),
    ('moodle_origin', 'moodle.example.ac.jp'),
    ('moodle_origin', 'https://moodle.example.ac.jp/'),
    ('moodle_origin', 'https://moodle.example.ac.jp/mod/lti'),
    ('moodle_origin', 'https://*'),
    ('moodle_origin', "https://m.example.org 'unsafe-inline'"),
    ('moodle_origin', ''),
    ('environment', {'BAD NAME': 'x'}),
    ('environment', {'NB_UMASK': 31}),
])
def test_bad_spawner_value_is_refused_naming_the_variable(key, value):
    _values, errors = check('spawner', SPAWNER, 'ltictr_', **{key: value})
    assert len(errors) == 1
    assert errors[0].startswith('ltictr_%s: ' % key)


@pytest.mark.parametrize('changes,named', [
    (dict(port=8081), 'jh_hub_api_port: '),
    (dict(proxy_api_port=443), 'jh_proxy_api_port: '),
    (dict(proxy_api_port=8081), 'jh_proxy_api_port: '),
])
def test_equal_ports_are_refused(changes, named):
    _values, errors = check('hub', HUB, 'jh_', **changes)
    assert len(errors) == 1 and errors[0].startswith(named)


def test_unknown_key_is_refused():
    _values, errors = check('hub', HUB, 'jh_', proxy_api_url='http://x')
    assert errors and errors[0].startswith('jh_proxy_api_url: unknown setting')


@pytest.mark.parametrize('value,expected', [
    ('1G', 1073741824),
    ('512M', 536870912),
    ('2,147,483,648', 2147483648),
    ('1GiB', 1073741824),
    (4096, 4096),
])
def test_mem_limit_is_normalised_to_bytes(value, expected):
    values, errors = check('spawner', SPAWNER, mem_limit=value, max_mem_limit='8G')
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


def run_config(path, c, loaded):
    """Run a config file as JupyterHub's traitlets loader does: get_config() and load_subconfig()
    in its namespace; a loaded subconfig runs with the same c, as traitlets merges it."""
    def load_subconfig(fname, path=None):
        loaded.append(fname)
        run_config(fname, c, loaded)

    ns = {'__name__': '__config__', 'get_config': lambda: c, 'load_subconfig': load_subconfig}
    with open(str(path)) as handle:
        exec(compile(handle.read(), str(path), 'exec'), ns)
    return ns


def load(tmp_path, hub=None, spawner=None, write_spawner=True):
    """Render both files into tmp_path (the spawner's with a stand-in class) and run the hub
    file as JupyterHub would. Returns (c, the loaded files, the environment it set)."""
    spawner_values, errors = hc.validate('spawner', dict(SPAWNER, spawner_dir=str(tmp_path), **(spawner or {})))
    assert errors == []
    spawner_file = tmp_path / 'lticontainerspawner_config.py'
    hub_values, errors = hc.validate('hub', dict(dict(HUB, crypt_key_file=str(tmp_path / 'crypt_key'),
                                                      proxy_env_file=str(tmp_path / 'proxy.env'),
                                                      spawner_config=str(spawner_file)), **(hub or {})))
    assert errors == []
    (tmp_path / 'lticontainerspawner.py').write_text(UPSTREAM_STAND_IN)
    if write_spawner:
        spawner_file.write_text(hc.render('spawner', spawner_values))
    (tmp_path / 'crypt_key').write_text('  crypt-key-from-file\n')
    (tmp_path / 'proxy.env').write_text('# generated\nCONFIGPROXY_AUTH_TOKEN=proxy-token-from-file\n')
    hub_file = tmp_path / 'jupyterhub_lticontainer_config.py'
    hub_file.write_text(hc.render('hub', hub_values))

    saved_env, saved_path, saved_mods = dict(os.environ), list(sys.path), set(sys.modules)
    c, loaded = FakeConfig(), []
    try:
        run_config(hub_file, c, loaded)
        env = dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_mods:
            del sys.modules[name]
    return c, loaded, env


def test_rendered_hub_config_runs_and_sets_what_moodle_needs(tmp_path):
    c, loaded, env = load(tmp_path)
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
    assert c.JupyterHub.tornado_settings['cookie_options'] == {'SameSite': 'None', 'Secure': True}
    assert c.JupyterHub.tornado_settings['headers']['Content-Security-Policy'] == \
        "frame-ancestors 'self' https://moodle.example.ac.jp"
    assert c.Authenticator.admin_users == set()
    assert c.Authenticator.enable_auth_state is True
    assert env['JUPYTERHUB_CRYPT_KEY'] == 'crypt-key-from-file'
    assert env['TZ'] == 'JST-9'
    assert loaded == [str(tmp_path / 'lticontainerspawner_config.py')]


def test_students_servers_outlive_the_hub(tmp_path):
    c, _loaded, _env = load(tmp_path)
    # The proxy is its own service; a hub restart neither stops servers nor drops routes.
    assert c.ConfigurableHTTPProxy.should_start is False
    assert c.ConfigurableHTTPProxy.api_url == 'http://127.0.0.1:8001'
    assert c.ConfigurableHTTPProxy.auth_token == 'proxy-token-from-file'
    assert c.JupyterHub.cleanup_servers is False
    assert c.JupyterHub.cleanup_proxy is False
    # Stopping a server removes its container, but the engine never does it on its own.
    assert c.DockerSpawner.remove is True
    assert c.DockerSpawner.extra_host_config == {'privileged': False, 'auto_remove': False, 'pids_limit': 1024,
                                                 'security_opt': ['no-new-privileges']}


def test_ltictr_proxy_takes_the_proxys_place(tmp_path):
    chp = hc.render('hub', hc.validate('hub', HUB)[0])
    c, _loaded, _env = load(tmp_path, hub=dict(proxy='ltictr_proxy'))
    text = (tmp_path / 'jupyterhub_lticontainer_config.py').read_text()
    # Its API server answers where configurable-http-proxy's API did, with the same token, and
    # the hub starts neither: each is its own unit.
    assert c.ConfigurableHTTPProxy.should_start is False
    assert c.ConfigurableHTTPProxy.api_url == 'http://127.0.0.1:8001'
    assert c.ConfigurableHTTPProxy.auth_token == 'proxy-token-from-file'
    assert "ltictr_proxy serves the HTTPS port in place of configurable-http-proxy" in text
    assert 'configurable-http-proxy runs as its own systemd unit' in chp
    assert 'configurable-http-proxy runs as its own systemd unit' not in text


def test_spawner_config_uses_the_class_from_spawner_dir(tmp_path):
    c, _loaded, _env = load(tmp_path)
    # Upstream's class, through the subclass whose single-user server Moodle may frame.
    upstream, = c.JupyterHub.spawner_class.__bases__
    assert (upstream.__module__, upstream.__name__) == ('lticontainerspawner', 'LTIContainerSpawner')
    assert c.JupyterHub.spawner_class.__name__ == hc.SPAWNER_CLASS
    assert c.Spawner.auth_state_hook is c.JupyterHub.spawner_class.userdata_hook
    assert c.DockerSpawner.image == SPAWNER['image']
    assert c.DockerSpawner.extra_create_kwargs == {'user': 'root'}
    assert c.Spawner.mem_limit == 1073741824 and c.Spawner.cpu_limit == 1.0 and c.Spawner.default_url == '/lab'
    assert c.Spawner.start_timeout == 120 and c.Spawner.http_timeout == 60
    assert c.Spawner.environment == {
        'GRANT_SUDO': 'no', 'PRJCT_DIR': 'jupyter', 'WORK_DIR': 'works', 'VOLUME_DIR': '.volumes',
        'NB_UMASK': '0037', 'CONDA_DIR': '/opt/conda', 'CHOWN_HOME': 'yes', 'CHOWN_HOME_OPTS': '-R'}
    ltic = c.LTIContainerSpawner
    assert (ltic.use_group, ltic.default_group, ltic.teacher_gname, ltic.teacher_gid, ltic.base_id) == \
        (True, 'others', 'TEACHER', 7000, 30000)
    assert (ltic.group_home_dir, ltic.user_home_dir) == ('/home/{groupname}', '/home/{groupname}/{username}')
    assert (ltic.projects_dir, ltic.works_dir, ltic.volumes_dir) == ('jupyter', 'works', '.volumes')
    assert (ltic.act_limit, ltic.notice_poll) == (6000, 60)


def test_a_missing_spawner_config_stops_the_hub(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        load(tmp_path, write_spawner=False)
    assert 'lticontainerspawner_config.py is missing' in str(stopped.value)


def test_hub_without_a_spawner_config_loads_nothing(tmp_path):
    c, loaded, _env = load(tmp_path, hub=dict(spawner_config=None))
    assert loaded == [] and 'spawner_class' not in vars(c.JupyterHub)


def test_file_secrets_are_never_embedded(tmp_path):
    load(tmp_path)
    for name in ('jupyterhub_lticontainer_config.py', 'lticontainerspawner_config.py'):
        text = (tmp_path / name).read_text()
        assert 'crypt-key-from-file' not in text and 'proxy-token-from-file' not in text


def test_scopes_constant_is_exactly_what_moodle_calls():
    assert hc.SERVICE_SCOPES == ['list:users', 'read:users', 'read:servers', 'delete:servers', 'delete:users']


def test_settings_change_the_running_config(tmp_path):
    c, _loaded, _env = load(tmp_path, hub=dict(ip_addr='2001:db8::1', port='8443', admin_users=['b', 'a']),
                            spawner=dict(default_group='students', mem_limit='2,147,483,648', privileged='yes',
                                         environment={'GRANT_SUDO': 'yes', 'EXTRA': 'x'}, pids_limit='256',
                                         no_new_privileges=False, active_server_limit=12))
    assert c.JupyterHub.bind_url == 'https://[2001:db8::1]:8443'
    assert c.JupyterHub.hub_connect_ip == '2001:db8::1'
    assert c.Authenticator.admin_users == {'a', 'b'}
    assert c.DockerSpawner.extra_host_config == {'privileged': True, 'auto_remove': False, 'pids_limit': 256}
    assert c.JupyterHub.active_server_limit == 12
    assert c.LTIContainerSpawner.default_group == 'students'
    assert c.Spawner.mem_limit == 2147483648
    assert c.Spawner.environment['GRANT_SUDO'] == 'yes' and c.Spawner.environment['EXTRA'] == 'x'
    assert c.Spawner.environment['NB_UMASK'] == '0037'


def test_hostile_strings_stay_literal(tmp_path):
    evil = "x'\n\"\"\"\nraise SystemExit('escaped')\n#"
    c, _loaded, _env = load(tmp_path, hub=dict(admin_users=[evil], frame_ancestors="https://a' \"b\\"),
                            spawner=dict(environment={'EVIL': evil}))
    assert c.Authenticator.admin_users == {evil}
    assert c.Spawner.environment['EVIL'] == evil
    assert c.JupyterHub.tornado_settings['headers']['Content-Security-Policy'] == \
        "frame-ancestors https://a' \"b\\"


def test_the_hub_file_records_the_files_it_depends_on():
    values, _errors = check('hub', HUB, watch_files=['/etc/spawner.py', '/etc/ssl/hub.crt'])
    text = hc.render('hub', values, {'/etc/spawner.py': 'a' * 64, '/etc/ssl/hub.crt': None})
    assert '#   /etc/spawner.py %s\n' % ('a' * 64) in text
    assert '#   /etc/ssl/hub.crt absent\n' in text
    # A changed file changes the rendered text, which is what restarts the hub.
    assert text != hc.render('hub', values, {'/etc/spawner.py': 'b' * 64, '/etc/ssl/hub.crt': None})


def test_the_spawner_file_records_its_class():
    values, _errors = check('spawner', SPAWNER)
    cls = '/usr/local/etc/ltictr/lticontainerspawner.py'
    text = hc.render('spawner', values, {cls: 'c' * 64})
    assert '#   %s %s\n' % (cls, 'c' * 64) in text
    # A new class changes the spawner's file, which changes the hub's (it watches this file).
    assert text != hc.render('spawner', values, {cls: 'd' * 64})


METRICS = 'Metrics-Tok3n-0a9b8c7d'


def test_the_metrics_token_may_read_the_metrics_and_nothing_else(tmp_path):
    c, _loaded, _env = load(tmp_path, hub={'metrics_token': METRICS})
    assert c.JupyterHub.authenticate_prometheus is True
    assert c.JupyterHub.services[1:] == [{'name': 'metrics', 'api_token': METRICS}]
    assert c.JupyterHub.load_roles[1:] == [{'name': 'metrics', 'scopes': ['read:metrics'], 'services': ['metrics']}]


def test_without_a_metrics_token_there_is_no_metrics_service(tmp_path):
    c, _loaded, _env = load(tmp_path)
    assert c.JupyterHub.authenticate_prometheus is True
    assert [s['name'] for s in c.JupyterHub.services] == ['admin-service']


@pytest.mark.parametrize('token, message', [
    ('short-token', 'must be at least 16 characters'),
    (TOKEN + 'x' * 16, None),
])
def test_a_weak_or_shared_metrics_token_is_refused(token, message):
    _values, errors = check('hub', HUB, 'jupyterhub_', metrics_token=token)
    assert errors == ([] if message is None else ['jupyterhub_metrics_token: ' + message])
    _values, errors = check('hub', dict(HUB, api_token=token * 2), 'jupyterhub_', metrics_token=token * 2)
    assert errors == ['jupyterhub_metrics_token: must differ from jupyterhub_api_token']


def test_diffs_mask_old_and_new_secrets():
    values, _errors = check('hub', dict(HUB, metrics_token=METRICS))
    masked = hc.mask_secret_lines(hc.render('hub', values))
    assert SECRET not in masked and TOKEN not in masked and METRICS not in masked
    assert "metrics_token = '********'\n" in masked
    assert "ltiauth_secret_key = '********'\n" in masked and "api_token = '********'\n" in masked
    assert "ltiauth_consumer_key = 'moodle-key'\n" in masked


def test_rendering_is_deterministic():
    for kind, base in (('hub', HUB), ('spawner', SPAWNER)):
        values, _errors = check(kind, base)
        assert hc.render(kind, values) == hc.render(kind, dict(values))
        assert hc.render(kind, values).startswith('# Generated by the Ansible module lticontainer.hub.hub_config')


# ------------------------------------------------------------------ the students' containers and the proxy

PROXY = dict(http_proxy='http://proxy.example.ac.jp:3128', https_proxy='http://proxy.example.ac.jp:3128',
             no_proxy=['localhost', '.example.ac.jp'])


class _FakeSpawner(types.SimpleNamespace):
    """What the rendered _no_proxy reads of a spawner when it starts a server."""

    def __init__(self, api_url, hub_connect_url=None):
        super().__init__(hub=types.SimpleNamespace(api_url=api_url), hub_connect_url=hub_connect_url)


def test_no_proxy_by_default(tmp_path):
    c, _loaded, _env = load(tmp_path)
    assert not any('proxy' in name.lower() for name in c.Spawner.environment)
    assert 'urlsplit' not in (tmp_path / 'lticontainerspawner_config.py').read_text()
    # Asked for, but no proxy set: nothing either.
    c, _loaded, _env = load(tmp_path, spawner=dict(container_proxy=dict(http_proxy='', https_proxy='', no_proxy=['x'])))
    assert not any('proxy' in name.lower() for name in c.Spawner.environment)


def test_containers_get_the_proxy_and_reach_the_hub_directly(tmp_path):
    c, _loaded, _env = load(tmp_path, spawner=dict(container_proxy=PROXY))
    env = c.Spawner.environment
    for name in ('http_proxy', 'https_proxy'):
        assert env[name] == env[name.upper()] == 'http://proxy.example.ac.jp:3128'
    # Called by JupyterHub's Spawner.get_env when a server starts: the hub's address is added.
    assert env['NO_PROXY'](_FakeSpawner('http://192.0.2.10:8081/hub/api')) == 'localhost,.example.ac.jp,192.0.2.10'
    assert env['no_proxy'](_FakeSpawner('http://[2001:db8::1]:8081/hub/api')) == 'localhost,.example.ac.jp,2001:db8::1'
    assert env['NO_PROXY'](_FakeSpawner('http://192.0.2.10:8081/hub/api', 'http://hub.example.ac.jp:8081')) \
        == 'localhost,.example.ac.jp,hub.example.ac.jp'
    assert env['NB_UMASK'] == '0037'


def test_the_environment_setting_wins_over_the_proxy(tmp_path):
    c, _loaded, _env = load(tmp_path, spawner=dict(container_proxy=PROXY, environment={'NO_PROXY': '*'}))
    assert c.Spawner.environment['NO_PROXY'] == '*' and callable(c.Spawner.environment['no_proxy'])


@pytest.mark.parametrize('value,message', [
    ('http://proxy:3128', 'must be a mapping'),
    (dict(PROXY, http_proxy='proxy:3128'), 'http_proxy must start with http://'),
    (dict(PROXY, no_proxy=['a b']), 'no_proxy must be a list'),
    (dict(PROXY, ftp_proxy='x'), 'unknown key ftp_proxy'),
])
def test_a_bad_container_proxy_is_refused_naming_the_variable(value, message):
    _values, errors = check('spawner', SPAWNER, 'lticontainerspawner_', container_proxy=value)
    assert len(errors) == 1 and errors[0].startswith('lticontainerspawner_container_proxy: ' + message)
