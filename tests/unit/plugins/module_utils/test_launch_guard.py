"""The launch guard as the hub runs it: the spawner file rendered by hub_config, exec'd against a
stand-in of upstream's class, its hooks called with what upstream's userdata_hook leaves on a spawner."""

import ast
import json
import logging
import os
import re
import sys
import types
import warnings

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils import hub_config as hc

from .test_hub_config import SPAWNER, load

MAX_MEM, MAX_CPU = 4 * 1024 ** 3, 2.0
AUTHENTICATOR = types.SimpleNamespace(log=logging.getLogger('authenticator'))


class HTTPError(Exception):
    """tornado.web.HTTPError's signature, for a hub without tornado here."""

    def __init__(self, status_code, log_message=None, *args):
        super().__init__(log_message % args if args else log_message)
        self.status_code = status_code


@pytest.fixture
def hooks(tmp_path, monkeypatch):
    tornado, web = types.ModuleType('tornado'), types.ModuleType('tornado.web')
    web.HTTPError, tornado.web = HTTPError, web
    monkeypatch.setitem(sys.modules, 'tornado', tornado)
    monkeypatch.setitem(sys.modules, 'tornado.web', web)
    c, _loaded, _env = load(tmp_path)
    return c


class Upstream:
    """What upstream's LTIContainerSpawner computes for the guard: the launch (userdata), the
    filtered custom_* values, and the uid/gid/home mapping of get_userid() and _get_groupname()."""
    base_id = 30000
    default_group = 'nosuchgroup-here'
    user_home_dir = '/home/{groupname}/{username}'

    def __init__(self, name, user_id='7', ext_uid=-1, ext_gid=-1, ext_group='', **custom):
        self.user = types.SimpleNamespace(name=name)
        self.userdata = dict({'user_id': user_id}, **{'custom_' + k: v for k, v in custom.items()})
        self.custom_image = re.sub('[ ;$!"\'&|\\\\<>?^%(){}\n\r~]', '', custom.get('lms_image', ''))
        self.custom_cpulimit = re.sub('[^0-9.]', '', custom.get('lms_cpulimit', ''))
        self.custom_memlimit = re.sub('[^0-9]', '', custom.get('lms_memlimit', ''))
        self.custom_cpugrnt = self.custom_memgrnt = ''
        self.ext_uid, self.ext_gid, self.ext_group = ext_uid, ext_gid, ext_group
        self.group_id = -1
        self.image, self.cpu_limit, self.mem_limit = 'the-last-launch:image', 9.0, 9
        self.log = logging.getLogger('spawner')

    def get_userid(self):
        import pwd
        try:
            return pwd.getpwnam(self.user.name).pw_uid
        except KeyError:
            return self.ext_uid if self.ext_uid >= 0 else self.base_id + int(self.userdata['user_id'])

    def _get_groupname(self):
        self.group_id = self.ext_gid if self.ext_gid >= 0 else self.base_id
        return self.ext_group or 'others'

    @property
    def homedir(self):
        return self.user_home_dir.format(username=self.user.name, groupname=self._get_groupname())


def refused(c, spawner):
    with pytest.raises(HTTPError) as raised:
        c.Spawner.pre_spawn_hook(spawner)
    # An HTTPError passes JupyterHub's spawn handler to the student's page; its progress events
    # show jupyterhub_message ("Spawn failed: ...").
    assert type(raised.value).__name__ == 'LaunchRefused' and raised.value.status_code == 403
    assert raised.value.jupyterhub_message == str(raised.value)
    # JupyterHub sets a failed spawn's reason to 'error' (its generic page); the reason stays ours.
    raised.value.reason = 'error'
    assert raised.value.reason == str(raised.value)
    return str(raised.value)


# ------------------------------------------------------------------ names

@pytest.mark.parametrize('name,reason', [
    ('root', 'is reserved'),
    ('docker', 'is reserved'),
    ('podman', 'is reserved'),
    ('admin', 'is reserved'),
    ('daemon', 'is a system account'),
    ('nobody', 'is a system account'),
    ('..', 'is not a valid user name'),
    ('.x', 'is not a valid user name'),
    ('.', 'is not a valid user name'),
    ('a/b', 'is not a valid user name'),
    ('a\\b', 'is not a valid user name'),
    ('bad\nname', 'is not a valid user name'),
    ('tab\tname', 'is not a valid user name'),
])
def test_unsafe_names_are_refused_at_login_and_at_spawn(hooks, name, reason):
    with pytest.raises(HTTPError) as raised:
        hooks.Authenticator.post_auth_hook(AUTHENTICATOR, None, {'name': name, 'auth_state': {}})
    assert raised.value.status_code == 403
    assert reason in str(raised.value) and repr(name) in str(raised.value)
    # A hub user made before the guard existed is refused at its next launch.
    assert reason in refused(hooks, Upstream(name))


@pytest.mark.parametrize('name', ['student01', 't_tanaka', 'taro@example.ac.jp', '42'])
def test_ordinary_names_pass(hooks, name):
    authentication = {'name': name, 'auth_state': {}}
    assert hooks.Authenticator.post_auth_hook(AUTHENTICATOR, None, authentication) is authentication
    hooks.Spawner.pre_spawn_hook(Upstream(name))


def test_system_accounts_follow_the_hosts_login_defs(hooks, tmp_path):
    spawner = Upstream('student01', ext_uid=999)
    assert 'uid 999 is a system id' in refused(hooks, spawner)
    (tmp_path / 'login.defs').write_text('# a site whose accounts start at 500\nUID_MIN\t\t 500\nGID_MIN 500\n')
    hooks.Spawner.pre_spawn_hook.__globals__['LOGIN_DEFS'] = str(tmp_path / 'login.defs')
    hooks.Spawner.pre_spawn_hook(Upstream('student01', ext_uid=999))


# ------------------------------------------------------------------ ids and homes

@pytest.mark.parametrize('upstream,message', [
    # A patched LMS sends ext_user_userid / ext_user_groupid: never root's, nor a system group.
    (dict(ext_uid=0), 'uid 0 is a system id'),
    (dict(ext_gid=0), 'gid 0 is a system id'),
    (dict(ext_gid=999), 'gid 999 is a system id'),
    # Another account's uid (nobody's, 65534) for an LMS user of another name.
    (dict(ext_uid=65534), 'uid 65534 belongs to another account'),
    # ext_user_groupname '..' for a gid the host does not know: the home would be /student01.
    (dict(ext_gid=40000, ext_group='..'), 'is not a plain path'),
])
def test_unsafe_ids_and_homes_are_refused(hooks, upstream, message):
    assert message in refused(hooks, Upstream('student01', **upstream))


def test_an_lms_user_unknown_to_the_host_gets_base_id_plus_its_id(hooks):
    spawner = Upstream('student01', user_id='7')
    hooks.Spawner.pre_spawn_hook(spawner)
    assert spawner.get_userid() == 30007


# ------------------------------------------------------------------ images

@pytest.mark.parametrize('image', [
    'ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser',      # :latest is implied
    'ghcr.io/jupyter-fumihax/jupyterhub-ltictr.singleuser : latest',  # as Moodle writes it
    'python:3.12',
    'docker.io/library/python:3.12',
    'ghcr.io/myuni/datascience:2026',                              # allowed_image_patterns
])
def test_listed_images_start(hooks, image):
    spawner = Upstream('student01', lms_image=image)
    hooks.Spawner.pre_spawn_hook(spawner)
    assert spawner.custom_image == image.replace(' ', '')


@pytest.mark.parametrize('image', [
    'evil.example.org/miner:latest',
    'python:3.11',
    'python',
    'ghcr.io/myuni',
    'ghcr.io/jupyter-fumihax/other:latest',
    'ghcr.io/myuni-evil/x:1',
])
def test_other_images_are_refused_before_anything_is_pulled(hooks, image, caplog):
    spawner = Upstream('student01', lms_image=image)
    message = refused(hooks, spawner)
    assert 'the image %r' % image.replace(' ', '') in message and 'not on its list' in message
    assert 'refused the launch of student01' in caplog.text


def test_a_launch_without_an_image_gets_the_default_not_the_last_one(hooks):
    spawner = Upstream('student01')
    hooks.Spawner.pre_spawn_hook(spawner)
    assert spawner.image == SPAWNER['image']


# ------------------------------------------------------------------ CPU and memory

@pytest.mark.parametrize('sent,expected,clamped', [
    (None, 1073741824, False),              # nothing sent: the course default
    ('', 1073741824, False),
    ('268,435,456', 268435456, False),     # Moodle's thousands separators
    ('4294967296', MAX_MEM, False),
    ('0', MAX_MEM, 'no limit'),            # Moodle's "no limit"
    ('99999999999999999', MAX_MEM, 'over the maximum'),
    ('4294967297', MAX_MEM, 'over the maximum'),
    ('abc', MAX_MEM, 'not a number'),
    ('1e9', MAX_MEM, 'not a number'),       # upstream would make it 19 bytes
    ('-1', MAX_MEM, 'not a number'),
])
def test_memory_is_clamped(hooks, caplog, sent, expected, clamped):
    spawner = Upstream('student01', **({} if sent is None else {'lms_memlimit': sent}))
    hooks.Spawner.pre_spawn_hook(spawner)
    assert spawner.mem_limit == expected
    # Upstream's start() must not apply the raw value again.
    assert spawner.custom_memlimit == ''
    if clamped:
        assert 'student01 asked for mem_limit %r (%s)' % (sent, clamped) in caplog.text
        assert 'clamped to the maximum, %d' % MAX_MEM in caplog.text
    else:
        assert 'clamped' not in caplog.text


@pytest.mark.parametrize('sent,expected', [
    (None, 1.0), ('0.5', 0.5), ('2', 2.0), ('0', MAX_CPU), ('0.0', MAX_CPU), ('10', MAX_CPU),
    ('abc', MAX_CPU), ('nan', MAX_CPU), ('inf', MAX_CPU), ('-1', MAX_CPU),
])
def test_cpu_is_clamped(hooks, sent, expected):
    spawner = Upstream('student01', **({} if sent is None else {'lms_cpulimit': sent}))
    hooks.Spawner.pre_spawn_hook(spawner)
    assert spawner.cpu_limit == expected and spawner.custom_cpulimit == ''


def test_guarantees_stay_below_the_limits(hooks):
    spawner = Upstream('student01', lms_memlimit='268,435,456', lms_memgrnt='999999999999', lms_cpugrnt='junk')
    hooks.Spawner.pre_spawn_hook(spawner)
    assert spawner.mem_guarantee == 268435456 and spawner.cpu_guarantee is None
    assert spawner.custom_memgrnt == spawner.custom_cpugrnt == ''


def test_the_last_value_sent_wins_as_upstream_reads_it(hooks):
    spawner = Upstream('student01', lms_memlimit='268435456', lms_memlimit_x='0')
    hooks.Spawner.pre_spawn_hook(spawner)
    assert spawner.mem_limit == MAX_MEM


# ------------------------------------------------------------------ the hub's limits

def test_active_servers_are_sized_from_the_hosts_memory(hooks):
    memory = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    assert hooks.JupyterHub.active_server_limit == max(1, (memory - 2 * 1024 ** 3) // 1073741824)


def test_every_container_gets_a_pids_limit_and_no_new_privileges(hooks):
    assert hooks.DockerSpawner.extra_host_config['pids_limit'] == 1024
    assert hooks.DockerSpawner.extra_host_config['security_opt'] == ['no-new-privileges']


def test_the_guard_is_the_same_code_the_module_checks_with():
    values, errors = hc.validate('spawner', SPAWNER)
    assert errors == []
    guard = hc.guard(values)
    assert guard['canonical_image']('docker.io/library/python') == 'python:latest'
    assert guard['image_allowed']('ghcr.io/myuni/x:1') and not guard['image_allowed']('ghcr.io/other/x:1')


# ------------------------------------------------------------------ framing by Moodle

ORIGIN = 'https://moodle.example.ac.jp'


def server_app_settings(arg):
    """What the single-user server makes of one argument: traitlets' own command-line parsing
    of ServerApp.tornado_settings (a Dict), as jupyter_server declares it."""
    from traitlets import Dict
    from traitlets.config import Configurable
    from traitlets.config.loader import KVArgParseConfigLoader

    class ServerApp(Configurable):
        tornado_settings = Dict(config=True)

    # traitlets 5 still reads a whole dict in one argument, as upstream's get_args passes it, but warns.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        config = KVArgParseConfigLoader(argv=[arg], classes=[ServerApp]).load_config()
    return ServerApp(config=config).tornado_settings


@pytest.mark.parametrize('value', [
    {},
    {'headers': {'Content-Security-Policy': "frame-ancestors 'self' https://moodle.example.ac.jp"}},
    {'xsrf_cookie_kwargs': {'samesite': 'None', 'secure': True, 'httponly': False, 'max_age': None}},
    {'spaces': '  two  spaces ', 'quotes': '\'"\'"', 'backslashes': 'a\\b\\\\c\\u0020', 'tab': 'a\tb\nc\r\x00\x7f'},
    {'non-ascii': 'é 漢字\u3000\u00a0\u2028', 'astral': '\U0001f600 and \U00010348', 'surrogate-like': '\\ud83d'},
    {'numbers': [0, -1, 10 ** 20, 0.5, -2.5e-10, 1e300], 'nested': [[{'k': [True, False, None]}], ()]},
    {"key with 'quote' and space": {'"': "'"}},
])
def test_the_command_line_literal_reads_back_as_it_was(hooks, value):
    cli_literal = hc.guard(hc.validate('spawner', SPAWNER)[0])['cli_literal']
    literal = cli_literal(value)
    # One word for the image's start script: nothing it would split at or take for a quote.
    assert not set(literal) & set(' \t\n\r\'\x0b\x0c'), literal
    assert literal.isascii() and literal.isprintable(), literal
    expected = json.loads(json.dumps(value))  # tuples come back as lists
    assert ast.literal_eval(literal) == expected
    assert server_app_settings('--ServerApp.tornado_settings=' + literal) == expected


def test_what_has_no_literal_is_refused():
    cli_literal = hc.guard(hc.validate('spawner', SPAWNER)[0])['cli_literal']
    for value in ({1: 'x'}, {'x': float('nan')}, {'x': float('inf')}, {'x': object()}, {'x': b'bytes'}):
        with pytest.raises((TypeError, ValueError)):
            cli_literal(value)


def test_the_single_user_server_lets_moodle_frame_it(hooks):
    """The spawner class the hub runs: upstream's get_args, its tornado_settings merged with the
    CSP header naming Moodle's origin and cross-site xsrf cookies."""
    spawner = hooks.JupyterHub.spawner_class()
    args = spawner.get_args()
    # Upstream's other arguments kept, in order; one tornado_settings argument, last, as upstream has it.
    assert args[:-1] == ['--debug', '--SingleUserNotebookApp.default_url=/lab']
    assert args[-1].startswith('--ServerApp.tornado_settings=')
    assert not set(args[-1]) & set(' \'')
    settings = server_app_settings(args[-1])
    assert settings == {
        'page_config_data': {'jnotice': {'path': 'jupyter/works/.jnotice.txt', 'pollMs': 60000}},
        'headers': {'Content-Security-Policy': "frame-ancestors 'self' " + ORIGIN},
        'xsrf_cookie_kwargs': {'samesite': 'None', 'secure': True},
    }


def test_upstreams_own_headers_and_cookie_options_are_merged_not_dropped(hooks):
    guard = hc.guard(hc.validate('spawner', SPAWNER)[0])
    upstream = {'headers': {'X-Upstream': 'kept', 'Content-Security-Policy': "frame-ancestors 'self'"},
                'xsrf_cookie_kwargs': {'path': '/user/x/', 'samesite': 'Strict'}, 'other': [1, {'a': None}]}
    args = guard['framed_args'](['--a', '--ServerApp.tornado_settings=' + json.dumps(upstream), '--b'])
    assert args[:-1] == ['--a', '--b']
    assert server_app_settings(args[-1]) == {
        'headers': {'X-Upstream': 'kept', 'Content-Security-Policy': "frame-ancestors 'self' " + ORIGIN},
        'xsrf_cookie_kwargs': {'path': '/user/x/', 'samesite': 'None', 'secure': True},
        'other': [1, {'a': None}],
    }
    # Our own literal reads back too (a second pass changes nothing), and no argument gets one.
    assert guard['framed_args'](args) == args
    assert server_app_settings(guard['framed_args']([])[0])['headers']['Content-Security-Policy'].endswith(ORIGIN)


def test_the_origin_is_the_one_setting_given():
    values, errors = hc.validate('spawner', dict(SPAWNER, moodle_origin='https://lms.example.org:8443'))
    assert errors == []
    framed = hc.guard(values)['framed_args']([])
    assert server_app_settings(framed[0])['headers'] == {
        'Content-Security-Policy': "frame-ancestors 'self' https://lms.example.org:8443"}
    assert 'https://lms.example.org:8443' in hc.render('spawner', values)
