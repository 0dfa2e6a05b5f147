"""Tests for the lticontainer.hub.services module, run in-process through main() against a
stand-in for systemctl: a script keeping the units' states in a JSON file (Molecule's hubs run
the module against real systemd)."""

import json
import os
import stat
import sys

import pytest

from ansible_collections.lticontainer.hub.plugins.modules import services as module

from .test_hub_config import patch_module_args

# units: name -> {LoadState, ActiveState, UnitFileState, NeedDaemonReload}; on_disk: what a reload loads.
FAKE_SYSTEMCTL = r'''#!%(python)s
import json, sys
path = %(state)r
with open(path) as f:
    db = json.load(f)
args = sys.argv[1:]
db['calls'].append(args)
if args[0] == 'show':
    props = args[1].split('=', 1)[1].split(',')
    blocks = []
    for name in args[3:]:
        unit = db['units'].get(name, dict(LoadState='not-found', ActiveState='inactive', UnitFileState='',
                                          NeedDaemonReload='no'))
        blocks.append(''.join('%%s=%%s\n' %% (p, unit[p]) for p in props))
    sys.stdout.write('\n'.join(blocks))
elif args[0] == 'daemon-reload':
    for name, unit in db['on_disk'].items():
        db['units'][name] = dict(unit, NeedDaemonReload='no')
elif args[0] in ('enable', 'start'):
    for name in args[2:]:
        if name in db.get('broken', []):
            sys.stderr.write('Job for %%s failed.\n' %% name)
            sys.exit(1)
        db['units'][name]['UnitFileState' if args[0] == 'enable' else 'ActiveState'] = (
            'enabled' if args[0] == 'enable' else 'active')
with open(path, 'w') as f:
    json.dump(db, f)
'''


def unit(active='active', enabled='enabled', load='loaded', reload='no'):
    return dict(LoadState=load, ActiveState=active, UnitFileState=enabled, NeedDaemonReload=reload)


@pytest.fixture
def systemd(tmp_path, monkeypatch):
    """Write the stand-in's state; return a reader of it."""
    state = tmp_path / 'systemd.json'
    script = tmp_path / 'bin' / 'systemctl'
    script.parent.mkdir()
    script.write_text(FAKE_SYSTEMCTL % dict(python=sys.executable, state=str(state)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv('PATH', '%s%s%s' % (script.parent, os.pathsep, os.environ['PATH']))

    def setup(units, on_disk=None, broken=()):
        state.write_text(json.dumps(dict(units=units, on_disk=on_disk or {}, broken=list(broken), calls=[])))
        return lambda: json.loads(state.read_text())
    return setup


def run(capsys, names, **args):
    with patch_module_args(dict(names=names, **args)):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_running_units_take_one_show_and_change_nothing(capsys, systemd):
    read = systemd(dict(guard=unit(active='active'), hub=unit(), ssh=unit(enabled='static')))
    result = run(capsys, ['guard', 'hub', 'ssh'])
    assert result['changed'] is False and result['enabled'] == [] and result['started'] == []
    assert [call[0] for call in read()['calls']] == ['show']


def test_stopped_units_start_in_the_given_order_and_disabled_ones_are_enabled(capsys, systemd):
    read = systemd(dict(guard=unit(active='inactive', enabled='disabled'), proxy=unit(),
                        hub=unit(active='failed')))
    result = run(capsys, ['guard', 'proxy', 'hub'], _ansible_diff=True)
    assert result['changed'] is True
    assert result['enabled'] == ['guard'] and result['started'] == ['guard', 'hub']
    calls = read()['calls']
    assert calls[1:] == [['enable', '--', 'guard'], ['start', '--', 'guard'], ['start', '--', 'hub']]
    assert read()['units']['hub']['ActiveState'] == 'active'
    assert result['diff'] == dict(before='guard: inactive, disabled\nhub: failed, enabled\n',
                                  after='guard: active, enabled\nhub: active, enabled\n')


def test_a_new_unit_file_is_loaded_by_one_reload_before_it_starts(capsys, systemd):
    read = systemd(dict(proxy=unit(reload='yes')), on_disk=dict(
        proxy=unit(), guard=unit(active='inactive', enabled='disabled')))
    result = run(capsys, ['guard', 'proxy'])
    assert result['started'] == ['guard'] and result['enabled'] == ['guard']
    assert [call[0] for call in read()['calls']] == ['show', 'daemon-reload', 'show', 'enable', 'start']


def test_started_false_only_enables(capsys, systemd):
    read = systemd(dict(timesyncd=unit(active='inactive', enabled='disabled')))
    result = run(capsys, ['timesyncd'], started=False)
    assert result['enabled'] == ['timesyncd'] and result['started'] == []
    assert read()['units']['timesyncd'] == unit(active='inactive', enabled='enabled')


def test_check_mode_reports_and_changes_nothing(capsys, systemd):
    units = dict(guard=unit(active='inactive'), hub=unit(enabled='disabled'))
    read = systemd(units, on_disk=dict(new=unit()))
    result = run(capsys, ['guard', 'hub', 'new'], _ansible_check_mode=True)
    assert result['changed'] is True
    assert result['started'] == ['guard', 'new'] and result['enabled'] == ['hub', 'new']
    assert read()['units'] == units and [call[0] for call in read()['calls']] == ['show']


def test_a_missing_unit_fails_naming_it(capsys, systemd):
    read = systemd(dict(hub=unit(active='inactive')))
    result = run(capsys, ['hub', 'nosuch'])
    assert result['failed'] is True and result['msg'] == 'No such unit: nosuch'
    assert read()['units']['hub']['ActiveState'] == 'inactive'


def test_a_unit_that_fails_to_start_fails_the_task_with_systemctls_message(capsys, systemd):
    systemd(dict(guard=unit(active='inactive'), hub=unit(active='inactive')), broken=['guard'])
    result = run(capsys, ['guard', 'hub'])
    assert result['failed'] is True and 'Job for guard failed.' in result['msg']
