"""Every role's README is what scripts/role_docs.py generates from its argument specs, and every
role's defaults/main.yml agrees with them; and the tool itself finds what it should."""

import importlib.util
import os
import textwrap

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SPEC = importlib.util.spec_from_file_location('role_docs', os.path.join(_ROOT, 'scripts', 'role_docs.py'))
role_docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_docs)


@pytest.mark.parametrize('name', role_docs.list_roles())
def test_readme_is_current(name):
    assert role_docs.stale_readme(role_docs.Role(name)) is None


@pytest.mark.parametrize('name', role_docs.list_roles())
def test_defaults_agree_with_specs(name):
    assert role_docs.defaults_mismatches(role_docs.Role(name)) == []


def test_markup():
    assert role_docs.markup('C(a) O(b=c) V(d) M(x.y.z) I(e) B(f), crypt(3) *') == '`a` `b=c` `d` `x.y.z` *e* **f**, crypt(3) \\*'


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(textwrap.dedent(text))


@pytest.fixture
def demo(tmp_path):
    """A collection with one role whose defaults disagree with its specs in every way the tool checks."""
    _write(tmp_path / 'galaxy.yml', 'namespace: ns\nname: coll\n')
    _write(tmp_path / 'roles/demo/meta/argument_specs.yml', """\
        argument_specs:
          main:
            short_description: Demo
            options:
              demo_port: {type: int, default: 443}
              demo_flag: {type: bool, default: true}
              demo_template: {type: str, default: "{{ a }}"}
              demo_missing: {type: str, default: x}
              demo_secret: {type: str}
              demo_needed: {type: str, required: true}
              demo_list: {type: list, elements: str, default: [a, b]}
        """)
    _write(tmp_path / 'roles/demo/defaults/main.yml', """\
        demo_port: "443"
        demo_flag: 1
        demo_template: "{{ a }}"
        demo_secret: s
        demo_needed: n
        demo_list: [a, b]
        demo_undocumented: 1
        _demo_internal: 1
        """)
    return role_docs.Role('demo', root=str(tmp_path))


def test_defaults_mismatches_names_each_variable(demo):
    problems = role_docs.defaults_mismatches(demo)
    assert [p.split(':')[1].strip() for p in problems] == [
        'demo_undocumented', 'demo_port', 'demo_flag', 'demo_missing', 'demo_secret']
    assert all(p.startswith('demo: ') for p in problems)


def test_stale_readme_is_named(demo):
    assert 'is missing' in role_docs.stale_readme(demo)
    with open(demo.readme, 'w', encoding='utf-8') as f:
        f.write(role_docs.render_readme(demo))
    assert role_docs.stale_readme(demo) is None
    with open(demo.readme, 'a', encoding='utf-8') as f:
        f.write('edited by hand\n')
    assert role_docs.stale_readme(demo).startswith(os.path.join('roles', 'demo', 'README.md') + ' is stale')
