# -*- coding: utf-8 -*-
"""Unit tests of the engine API: the container report from Docker inspect samples, and the
user's container and Moodle's listings read from FakeEngine (tests/unit/plugins/conftest.py)."""

import pytest

from ansible_collections.lticontainer.hub.plugins.module_utils import engine_api


# Trimmed from `docker inspect` of containers DockerSpawner 14 made for LTIContainerSpawner.
INSPECT_NANOCPUS = {
    'Id': 'f00d', 'Name': '/jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01',
    'Config': {'Image': 'lticontainer-singleuser:abc', 'Env': [
        'JUPYTERHUB_USER=student01', 'JUPYTERHUB_API_TOKEN=deadbeef', 'NB_UID=30007', 'NB_USER=student01',
        'NB_GID=1000', 'NB_GROUP=others', 'NB_VOLUMES=lms_vol_task_42_moodle.example.org:task',
        'LTI_COURSE=42', 'PATH=/usr/bin', 'NB_OPTION=']},
    'HostConfig': {'NanoCpus': 500000000, 'CpuQuota': 0, 'CpuPeriod': 0, 'Memory': 268435456},
    'Mounts': [
        {'Type': 'bind', 'Source': '/home/others/student01/jupyter/works',
         'Destination': '/home/others/student01/jupyter/works'},
        {'Type': 'volume', 'Name': 'lms_vol_task_42_moodle.example.org',
         'Destination': '/home/others/student01/jupyter/works/.volumes/lms_vol_task_42_moodle.example.org'},
        {'Type': 'volume', 'Name': 'lms_sub_submit_42_moodle.example.org',
         'Destination': '/home/others/student01/jupyter/works/.volumes/lms_sub_submit_42_moodle.example.org'},
    ],
}


def test_container_report_nanocpus():
    got = engine_api.container_report(INSPECT_NANOCPUS)
    assert got['id'] == 'f00d'
    assert got['name'] == 'jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01'
    assert got['image'] == 'lticontainer-singleuser:abc'
    assert got['cpu_limit'] == 0.5
    assert got['mem_limit'] == 268435456
    assert [v['name'] for v in got['volumes']] == ['lms_vol_task_42_moodle.example.org',
                                                   'lms_sub_submit_42_moodle.example.org']
    assert got['volumes'][0]['destination'].endswith('/.volumes/lms_vol_task_42_moodle.example.org')
    assert got['binds'] == [{'source': '/home/others/student01/jupyter/works',
                             'destination': '/home/others/student01/jupyter/works'}]  # volumes are not binds
    assert got['env'] == {'NB_UID': '30007', 'NB_USER': 'student01', 'NB_GID': '1000', 'NB_GROUP': 'others',
                          'NB_VOLUMES': 'lms_vol_task_42_moodle.example.org:task', 'LTI_COURSE': '42',
                          'NB_OPTION': ''}


def test_container_report_cpuquota_and_unlimited_memory():
    info = {'Name': '/c', 'Config': {'Image': 'i', 'Env': None},
            'HostConfig': {'NanoCpus': 0, 'CpuQuota': 150000, 'CpuPeriod': 100000, 'Memory': 0}, 'Mounts': None}
    got = engine_api.container_report(info)
    assert got['cpu_limit'] == 1.5
    assert got['mem_limit'] is None
    assert got['volumes'] == [] and got['env'] == {}
    assert got['binds'] == [] and got['id'] is None


def test_container_report_unlimited_cpu():
    info = {'Name': '/c', 'Config': {'Image': 'i', 'Env': []},
            'HostConfig': {'NanoCpus': 0, 'CpuQuota': -1, 'CpuPeriod': 0, 'Memory': 1073741824}}
    got = engine_api.container_report(info)
    assert got['cpu_limit'] is None
    assert got['mem_limit'] == 1073741824


def test_container_report_binds_leave_out_other_mount_types():
    info = {'Id': 'c0ffee' * 10 + 'c0ff', 'Name': '/c', 'Config': {'Image': 'i'}, 'HostConfig': {}, 'Mounts': [
        {'Type': 'bind', 'Source': '/home/others/student01', 'Destination': '/home/others/student01',
         'Mode': '', 'RW': True, 'Propagation': 'rprivate'},
        {'Type': 'tmpfs', 'Destination': '/tmp'},
        {'Type': 'volume', 'Name': 'v', 'Source': '/var/lib/docker/volumes/v/_data', 'Destination': '/v'},
    ]}
    got = engine_api.container_report(info)
    assert got['id'] == 'c0ffee' * 10 + 'c0ff'  # the full Id, as inspect gives it
    assert got['binds'] == [{'source': '/home/others/student01', 'destination': '/home/others/student01'}]
    assert got['volumes'] == [{'name': 'v', 'destination': '/v'}]


def test_find_user_container_only_running_ones(engine_socket):
    assert engine_api.find_user_container(engine_socket, 'student01')['Id'] == 'bbb'
    assert engine_api.find_user_container(engine_socket, 'student02') is None  # exited: not the user's server
    assert engine_api.find_user_container(engine_socket, 'nobody') is None


def test_engine_get_raises_on_an_error_status(engine_socket):
    with pytest.raises(IOError) as err:
        engine_api.engine_get(engine_socket, '/containers/zzz/json')
    assert 'HTTP 404' in str(err.value)


def test_engine_listing_as_moodle_sees_it(engine_socket):
    assert engine_api.engine_listing(engine_socket) == {
        'images': ['lticontainer-singleuser:abc', 'lticontainer-singleuser:latest', 'jupyterhub/jupyterhub:4.1.6'],
        'containers': ['other', 'jupyterhub-42-1-moodle.example.org-1a2b3c4d-student01',
                       'jupyterhub-42-1-moodle.example.org-1a2b3c4d-student02'],  # the exited one too
        'volumes': ['lms_vol_task_42_moodle.example.org', 'lms_sub_submit_42_moodle.example.org'],
    }
