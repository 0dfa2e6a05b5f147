#!/usr/bin/env python3
"""Generate each role's README.md from its meta/argument_specs.yml and meta/main.yml,
and check that the role's defaults/main.yml agrees with its argument specs.

    scripts/role_docs.py            write roles/*/README.md, then check the defaults
    scripts/role_docs.py --check    change nothing; exit 1 naming each stale README and each
                                    variable whose default disagrees with its spec
    scripts/role_docs.py ROLE...    only these roles

Stdlib and PyYAML only. Variables whose names start with `_` are internal and not checked.
"""

import argparse
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = 'scripts/role_docs.py'
HEADER = f'<!-- Generated from meta/argument_specs.yml by {TOOL}: do not edit by hand, run `make docs`. -->'


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's !unsafe and !vault tags as plain strings."""


for _tag in ('!unsafe', '!vault'):
    _Loader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


def load_yaml(path, missing=None):
    if not os.path.exists(path):
        return missing
    with open(path, encoding='utf-8') as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


class _Dumper(yaml.SafeDumper):
    """Dumps defaults as this collection writes them: lists indented, quoted strings double-quoted."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _represent_str(dumper, value):
    quoted = yaml.safe_dump(value, width=1000).startswith(("'", '"'))
    return dumper.represent_scalar('tag:yaml.org,2002:str', value, style='"' if quoted else None)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data, flow=False):
    text = yaml.dump(data, Dumper=_Dumper, default_flow_style=flow, sort_keys=False, width=1000)
    return text.removesuffix('...\n').rstrip('\n')


# Ansible's doc markup: C(code), O(option), V(value), RV(return value), E(env var), P(plugin),
# M(module), I(italic), B(bold), U(url), L(text,url).
_MARKUP = re.compile(r'\b(RV|[COVEPMIBUL])\(([^()]*)\)')


def code(text):
    fence = '``' if '`' in text else '`'
    pad = ' ' if fence == '``' else ''
    return f'{fence}{pad}{text}{pad}{fence}'


def _escape(text):
    return re.sub(r'([\\`*<\[\]])', r'\\\1', text)


def markup(text):
    """Ansible doc markup to Markdown; plain text around it is escaped."""
    out, pos = [], 0
    for m in _MARKUP.finditer(text):
        out.append(_escape(text[pos:m.start()]))
        kind, body = m.groups()
        if kind == 'I':
            out.append(f'*{body}*')
        elif kind == 'B':
            out.append(f'**{body}**')
        elif kind == 'U':
            out.append(f'<{body}>')
        elif kind == 'L':
            label, _, url = body.rpartition(',')
            out.append(f'[{label.strip()}]({url.strip()})')
        else:
            out.append(code(body))
        pos = m.end()
    out.append(_escape(text[pos:]))
    return ''.join(out)


def paragraphs(description):
    if description is None:
        return []
    if isinstance(description, str):
        description = [description]
    return [markup(' '.join(str(p).split())) for p in description]


def list_roles(root=ROOT):
    base = os.path.join(root, 'roles')
    return sorted(r for r in os.listdir(base) if os.path.exists(os.path.join(base, r, 'meta', 'argument_specs.yml')))


class Role:
    """What the README and the checks read from one role's directory."""

    def __init__(self, name, root=ROOT):
        self.name = name
        self.path = os.path.join(root, 'roles', name)
        galaxy = load_yaml(os.path.join(root, 'galaxy.yml'), {})
        self.fqcn = f"{galaxy['namespace']}.{galaxy['name']}.{name}"
        self.entry_points = load_yaml(os.path.join(self.path, 'meta', 'argument_specs.yml'))['argument_specs']
        self.meta = load_yaml(os.path.join(self.path, 'meta', 'main.yml'), {}) or {}
        self.defaults = load_yaml(os.path.join(self.path, 'defaults', 'main.yml'), {}) or {}
        self.readme = os.path.join(self.path, 'README.md')
        self.readme_name = os.path.join('roles', name, 'README.md')

    def options(self):
        """Every documented variable, over all entry points (preflight repeats main's)."""
        options = {}
        for entry_point in self.entry_points.values():
            options.update(entry_point.get('options') or {})
        return options

    def collections_used(self):
        """Collections other than ansible.builtin and this one whose modules the tasks and handlers call."""
        own = self.fqcn.rsplit('.', 1)[0]
        found = set()
        for sub in ('tasks', 'handlers'):
            folder = os.path.join(self.path, sub)
            for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
                with open(os.path.join(folder, name), encoding='utf-8') as f:
                    found.update(re.findall(r'^[ -]*([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+:', f.read(), re.M))
        return sorted(found - {'ansible.builtin', own})


# --- README ---------------------------------------------------------------------------------


def _type(option):
    kind = option.get('type', 'str')
    return f"{code(kind)} of {code(option['elements'])}" if kind == 'list' and 'elements' in option else code(kind)


def _choices(option):
    return ', '.join(code(dump_yaml(c, flow=True)) for c in option['choices'])


def _suboptions(options, depth=0):
    """Sub-options as a nested list: name (type, required, default, choices): description."""
    lines = []
    for name, option in options.items():
        facts = [_type(option)]
        if option.get('required'):
            facts.append('required')
        if 'default' in option:
            facts.append(f"default {code(dump_yaml(option['default'], flow=True))}")
        if 'choices' in option:
            facts.append('one of ' + _choices(option))
        text = ' '.join(paragraphs(option.get('description')))
        lines.append(f"{'  ' * depth}- {code(name)} ({', '.join(facts)})" + (f': {text}' if text else ''))
        lines += _suboptions(option.get('options') or {}, depth + 1)
    return lines


def _variables(options):
    lines = []
    for name, option in options.items():
        lines += ['', f'### {code(name)}', '']
        if 'default' in option:
            lines += ['```yaml', dump_yaml({name: option['default']}), '```', '']
        facts = f'Type {_type(option)}'
        if 'choices' in option:
            facts += ', one of ' + _choices(option)
        if option.get('required'):
            facts += '. **Required**'
        elif 'default' not in option:
            facts += '. No default'
        lines.append(facts + '.')
        for paragraph in paragraphs(option.get('description')):
            lines += ['', paragraph]
        if option.get('options'):
            lines += ['', 'Each item has:' if option.get('type') == 'list' else 'Its keys:', '']
            lines += _suboptions(option['options'])
    return lines


def _requirements(role):
    info = role.meta.get('galaxy_info') or {}
    lines = ['## Requirements', '']
    if info.get('min_ansible_version'):
        lines.append(f"- ansible-core {info['min_ansible_version']} or newer.")
    collections = role.collections_used()
    if collections:
        lines.append(f"- The collection{'s' if len(collections) > 1 else ''} " + ', '.join(code(c) for c in collections)
                     + ', which `ansible-galaxy` installs with this collection (its dependencies in `galaxy.yml`).')
    platforms = info.get('platforms') or []
    if platforms:
        lines += ['', 'Platforms (`meta/main.yml`):', '']
        lines += [f"- {p['name']}: {', '.join(str(v) for v in p.get('versions') or ['all'])}" for p in platforms]
    return lines


def render_readme(role):
    main = role.entry_points['main']
    info = role.meta.get('galaxy_info') or {}
    lines = [HEADER, '', f'# {role.fqcn}', '', markup(main.get('short_description', '')).strip()]
    for paragraph in paragraphs(main.get('description')):
        lines += ['', paragraph]
    lines += [''] + _requirements(role)
    lines += ['', '## Role Variables', '',
              'Available variables are listed below, along with their default values (see `defaults/main.yml`).',
              'Ansible checks the values given against these types and choices when the role starts.']
    for name, entry_point in role.entry_points.items():
        if name == 'main':
            continue
        same = entry_point.get('options') == main.get('options')
        lines += ['', f"Entry point {code(name)} (`tasks_from: {name}`): "
                  f"{markup(entry_point.get('short_description', '')).strip().rstrip('.')}."
                  + (' It takes the same variables.' if same else '')]
    lines += _variables(main.get('options') or {})
    for name, entry_point in role.entry_points.items():
        if name != 'main' and entry_point.get('options') != main.get('options'):
            lines += ['', f'## Variables of the entry point {code(name)}'] + _variables(entry_point.get('options') or {})
    dependencies = role.meta.get('dependencies') or []
    lines += ['', '## Dependencies', '']
    lines += [f"- {code(d if isinstance(d, str) else d.get('role', d.get('name')))}" for d in dependencies] or ['None.']
    example = main.get('examples') or f'- name: Hubs\n  hosts: hubs\n  become: true\n  roles:\n    - {role.fqcn}\n'
    lines += ['', '## Example Playbook', '', '```yaml', example.strip('\n'), '```']
    lines += ['', '## License', '', str(info.get('license', 'GPL-3.0-or-later'))]
    return '\n'.join(lines) + '\n'


def stale_readme(role):
    """None when the committed README is what render_readme makes, else a message naming it."""
    try:
        with open(role.readme, encoding='utf-8') as f:
            current = f.read()
    except FileNotFoundError:
        current = None
    if current == render_readme(role):
        return None
    return f'{role.readme_name} is {"missing" if current is None else "stale"}: run `make docs` ({TOOL})'


# --- defaults/main.yml against the specs -----------------------------------------------------


def same_value(a, b):
    """YAML values equal, with booleans never equal to numbers (True == 1 in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def defaults_mismatches(role):
    """One message per variable where defaults/main.yml and the argument specs disagree."""
    options, defaults, problems = role.options(), role.defaults, []
    for name in defaults:
        if not name.startswith('_') and name not in options:
            problems.append(f'{name}: set in defaults/main.yml but not documented in meta/argument_specs.yml')
    for name, option in options.items():
        if name.startswith('_'):
            continue
        if 'default' in option:
            if name not in defaults:
                problems.append(f"{name}: the spec's default is {option['default']!r} but defaults/main.yml does not set it")
            elif not same_value(option['default'], defaults[name]):
                problems.append(f"{name}: the spec's default is {option['default']!r}, defaults/main.yml has {defaults[name]!r}")
        elif name in defaults and not option.get('required'):
            problems.append(f'{name}: defaults/main.yml sets {defaults[name]!r} but the spec has no default and is not required')
    return [f'{role.name}: {p}' for p in problems]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--check', action='store_true', help='write nothing; fail on a stale README or a default that disagrees')
    parser.add_argument('roles', nargs='*', help='role names (default: every role with meta/argument_specs.yml)')
    args = parser.parse_args(argv)
    problems = []
    for name in args.roles or list_roles():
        role = Role(name)
        if args.check:
            problems += filter(None, [stale_readme(role)])
        elif stale_readme(role):
            with open(role.readme, 'w', encoding='utf-8') as f:
                f.write(render_readme(role))
            print(f'wrote {role.readme_name}')
        problems += defaults_mismatches(role)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
