"""Tests for the lticontainer.hub.installed_packages module, run in-process through main(): against this
machine's real dpkg database where there is one, and against a stand-in for rpm (no RPM host runs here)."""

import json
import shutil
import stat
import subprocess
import sys

import pytest

from ansible_collections.lticontainer.hub.plugins.modules import installed_packages as module

from .test_hub_config import patch_module_args

# rpm --query --all with the module's queryformat, as Rocky Linux 9 answers it.
STAND_IN_RPM = r'''#!%s
import sys
assert sys.argv[1:4] == ['--query', '--all', '--queryformat'], sys.argv
for name, version, arch in [('bash', '5.1.8-9.el9', 'x86_64'), ('kernel', '5.14.0-427.el9', 'x86_64'),
                            ('kernel', '5.14.0-503.el9', 'x86_64'), ('tzdata', '2024a-1.el9', 'noarch')]:
    sys.stdout.write(sys.argv[4].replace('\\t', '\t').replace('\\n', '\n')
                     .replace('%%{NAME}', name).replace('%%{VERSION}-%%{RELEASE}', version).replace('%%{ARCH}', arch))
'''


def run(capsys):
    with patch_module_args({}):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.skipif(not shutil.which('dpkg-query'), reason='no dpkg database on this machine')
def test_the_installed_packages_of_this_machine_with_their_versions(capsys):
    packages = run(capsys)['ansible_facts']['packages']
    version = subprocess.run(['dpkg-query', '--show', '--showformat', '${Version}', 'bash'],
                             capture_output=True, text=True, check=True).stdout
    assert packages['bash'] == [dict(name='bash', version=version, arch=packages['bash'][0]['arch'], source='apt')]
    installed = subprocess.run(['dpkg-query', '--show', '--showformat', '${db:Status-Abbrev}${Package}\n'],
                               capture_output=True, text=True, check=True).stdout.splitlines()
    # Exactly the packages dpkg calls installed (ii, hi): not one removed with its configuration kept.
    assert set(packages) == {line[3:] for line in installed if line[1] == 'i'}


def test_rpm_hosts_list_every_installed_version(capsys, tmp_path, monkeypatch):
    rpm = tmp_path / 'rpm'
    rpm.write_text(STAND_IN_RPM % sys.executable)
    rpm.chmod(rpm.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv('PATH', str(tmp_path))
    packages = run(capsys)['ansible_facts']['packages']
    assert sorted(packages) == ['bash', 'kernel', 'tzdata']
    assert [p['version'] for p in packages['kernel']] == ['5.14.0-427.el9', '5.14.0-503.el9']
    assert packages['tzdata'] == [dict(name='tzdata', version='2024a-1.el9', arch='noarch', source='rpm')]


def test_a_host_without_a_package_database_fails(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    result = run(capsys)
    assert result['failed'] and 'dpkg-query' in result['msg']
