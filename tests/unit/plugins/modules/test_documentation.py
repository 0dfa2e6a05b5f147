"""Every module's DOCUMENTATION, EXAMPLES and RETURN are YAML that ansible-doc can read (a YAML slip, such
as a colon and a space in a plain line, leaves ansible-doc with nothing to show)."""

import ast
import os

import pytest
import yaml

_MODULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'plugins', 'modules')
MODULES = sorted(name[:-3] for name in os.listdir(_MODULES) if name.endswith('.py') and name != '__init__.py')


def blocks(name):
    with open(os.path.join(_MODULES, name + '.py'), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    return dict((node.targets[0].id, node.value.value) for node in tree.body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ('DOCUMENTATION', 'EXAMPLES', 'RETURN'))


@pytest.mark.parametrize('name', MODULES)
def test_the_documentation_is_yaml_naming_the_module(name):
    found = blocks(name)
    assert sorted(found) == ['DOCUMENTATION', 'EXAMPLES', 'RETURN']
    doc = yaml.safe_load(found['DOCUMENTATION'])
    assert doc['module'] == name and doc['short_description'] and doc['description']
    assert isinstance(yaml.safe_load(found['EXAMPLES']), list)
    yaml.safe_load(found['RETURN'])
