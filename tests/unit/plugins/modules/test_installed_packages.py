"""Tests for the lticontainer.hub.installed_packages module, run in-process through main(): against this
machine's real dpkg database where there is one, and against Debian's rpm with a database of its own."""

import json
import shutil
import subprocess

import pytest

from ansible_collections.lticontainer.hub.plugins.modules import installed_packages as module

from .test_hub_config import patch_module_args

# A package of nothing, for a test database of Debian's rpm: each build names its package, version and
# release, and noarch or the machine's architecture.
SPEC = r'''Name: %{pkg}
Version: %{ver}
Release: %{rel}
%{?noarch:BuildArch: noarch}
Summary: A test package of nothing
License: GPL-3.0-or-later
%description
A test package of nothing.
%files
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


@pytest.mark.skipif(not (shutil.which('rpm') and shutil.which('rpmbuild')),
                    reason='no rpm and rpmbuild on this machine (Debian and Ubuntu: apt install rpm)')
def test_rpm_hosts_list_every_installed_version(capsys, tmp_path, monkeypatch):
    """The real rpm, on a database of its own (~/.rpmmacros): two versions of one package side by side, as
    Rocky Linux keeps its kernels, and a noarch one."""
    home = tmp_path / 'home'
    home.mkdir()
    (home / '.rpmmacros').write_text('%%_dbpath %s\n%%_topdir %s\n' % (tmp_path / 'db', tmp_path / 'build'))
    monkeypatch.setenv('HOME', str(home))
    (tmp_path / 'test.spec').write_text(SPEC)
    builds = [('kernel-test', '5.14.0', '427.el9', False), ('kernel-test', '5.14.0', '503.el9', False),
              ('tzdata-test', '2024a', '1.el9', True)]
    for pkg, ver, rel, noarch in builds:
        defines = ['pkg ' + pkg, 'ver ' + ver, 'rel ' + rel] + (['noarch 1'] if noarch else [])
        subprocess.run(['rpmbuild', '-bb', '--quiet', str(tmp_path / 'test.spec')]
                       + [arg for define in defines for arg in ('--define', define)], check=True, capture_output=True)
    # Debian's rpm installs only when told that it is not to manage the machine's own packages.
    debian = '--force-debian' in subprocess.run(['rpm', '--help'], capture_output=True, text=True).stdout
    subprocess.run(['rpm', '--initdb'], check=True)
    subprocess.run(['rpm', '--install', '--nodeps'] + (['--force-debian'] if debian else [])
                   + [str(p) for p in sorted((tmp_path / 'build' / 'RPMS').glob('*/*.rpm'))], check=True, capture_output=True)
    arch = next(p.name for p in (tmp_path / 'build' / 'RPMS').iterdir() if p.name != 'noarch')
    # rpm alone on the PATH, as on a Rocky Linux host, which has no dpkg-query.
    (tmp_path / 'bin').mkdir()
    (tmp_path / 'bin' / 'rpm').symlink_to(shutil.which('rpm'))
    monkeypatch.setenv('PATH', str(tmp_path / 'bin'))
    packages = run(capsys)['ansible_facts']['packages']
    assert sorted(packages) == ['kernel-test', 'tzdata-test']
    assert sorted(p['version'] for p in packages['kernel-test']) == ['5.14.0-427.el9', '5.14.0-503.el9']
    assert {p['arch'] for p in packages['kernel-test']} == {arch}
    assert packages['tzdata-test'] == [dict(name='tzdata-test', version='2024a-1.el9', arch='noarch', source='rpm')]


def test_a_host_without_a_package_database_fails(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    result = run(capsys)
    assert result['failed'] and 'dpkg-query' in result['msg']
