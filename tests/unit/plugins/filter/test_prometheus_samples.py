"""Tests for the prometheus_samples filter, on what JupyterHub's /hub/metrics answers."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lticontainer.hub.plugins.filter.prometheus_samples import prometheus_samples

# The shape of JupyterHub 4's exposition (prometheus_client): HELP/TYPE lines, labelled
# histogram buckets, +Inf, and a label value with escapes.
EXPOSITION = r'''# HELP jupyterhub_running_servers the number of user servers currently running
# TYPE jupyterhub_running_servers gauge
jupyterhub_running_servers 3.0
# TYPE jupyterhub_server_spawn_duration_seconds histogram
jupyterhub_server_spawn_duration_seconds_bucket{le="0.5",status="success"} 0.0
jupyterhub_server_spawn_duration_seconds_bucket{le="+Inf",status="success"} 3.0
jupyterhub_server_spawn_duration_seconds_count{status="success"} 3.0

process_resident_memory_bytes 1.893e+08
odd{path="/a\"b\\c",empty=""} NaN 1700000000000
'''


def test_every_sample_with_its_labels_and_value():
    samples = prometheus_samples(EXPOSITION)
    assert [s['name'] for s in samples] == [
        'jupyterhub_running_servers', 'jupyterhub_server_spawn_duration_seconds_bucket',
        'jupyterhub_server_spawn_duration_seconds_bucket', 'jupyterhub_server_spawn_duration_seconds_count',
        'process_resident_memory_bytes', 'odd']
    assert samples[0] == {'name': 'jupyterhub_running_servers', 'labels': {}, 'value': 3.0}
    assert samples[2]['labels'] == {'le': '+Inf', 'status': 'success'}
    assert samples[4]['value'] == 189300000.0
    assert samples[5]['labels'] == {'path': '/a"b\\c', 'empty': ''}
    assert samples[5]['value'] != samples[5]['value']  # NaN


@pytest.mark.parametrize('text', ['<html>403 Forbidden</html>', 'metric{le="1" 2', 'metric abc'])
def test_what_is_not_an_exposition_is_an_error(text):
    with pytest.raises(AnsibleFilterError, match='prometheus_samples'):
        prometheus_samples(text)
