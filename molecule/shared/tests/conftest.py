"""Shared fixtures for the scenarios' testinfra checks."""
import json
import os
import subprocess

import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.environ['MOLECULE_INVENTORY_FILE']
PROJECT = os.environ['MOLECULE_PROJECT_DIRECTORY']


def hub_hosts():
    return testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts('hubs')


def moodle_hosts():
    return testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts('moodle')


def playbook(*args):
    """Run one of the collection's playbooks against the scenario's inventory."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(PROJECT, '.collections'),
               ANSIBLE_PIPELINING='true', ANSIBLE_FORCE_COLOR='false')
    return subprocess.run(
        ['ansible-playbook', '-i', os.path.dirname(INVENTORY), *args],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope='session')
def launch_report(tmp_path_factory):
    """verify.yml's reports, one per hub: what a real signed launch saw."""
    report_dir = tmp_path_factory.mktemp('verify')
    run = playbook('playbooks/verify.yml', '-e', 'verify_report_dir=%s' % report_dir)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return {path.stem: json.loads(path.read_text()) for path in report_dir.glob('*.json')}


@pytest.fixture(scope='session')
def roles_alone():
    """One run of every role alone, on every converged hub at once."""
    return playbook(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'roles-alone.yml'))
