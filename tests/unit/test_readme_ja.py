"""README.ja.md says what README.md says: the same make targets, playbooks, role and playbook variables,
inline code, code blocks and links, and per section as many paragraphs, list items, table rows and code blocks;
each links to the other, and both still start with the two commands.

Each comparison is of sets (or of per-section counts) and reports what is missing on which side, so that a
change to one README without the other fails `make unit`."""

import collections
import os
import re

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EN = 'README.md'
JA = 'README.ja.md'
LINK_TO_JA = '[README.ja.md](README.ja.md)'
LINK_TO_EN = '[README.md](README.md)'

# Prefixes of the roles' variables (os_base_ ... hub_backup_), of the playbooks' own variables (upgrade_,
# verify_, backup_) and of the inventory's Vault secrets (vault_).
VARIABLE_PREFIXES = ('os_base_', 'container_runtime_', 'tls_', 'tunnel_user_', 'jupyterhub_', 'lticontainerspawner_',
                     'hub_backup_', 'upgrade_', 'verify_', 'backup_', 'vault_')
PLAYBOOKS = sorted(f for f in os.listdir(os.path.join(_ROOT, 'playbooks')) if f.endswith('.yml'))

# A make command: at the start of a code line or of inline code (prose may say "make targets").
_MAKE = re.compile(r'(?:^|`)\s*make ([a-z][a-z0-9-]*)', re.ASCII | re.MULTILINE)
_PLAYBOOK_PATH = re.compile(r'(?<![\w./-])playbooks/[\w-]+\.yml\b', re.ASCII)
_BARE_YML = re.compile(r'(?<![\w./-])([\w-]+\.yml)\b', re.ASCII)
# A whole identifier (\b on both sides) that is not a file name (lticontainerspawner_config.py). re.ASCII:
# Japanese letters are not word characters, so in hub_backup_dirに the name ends before に.
_VARIABLE = re.compile(r'\b((?:%s)\w+)\b(?!\.[A-Za-z])' % '|'.join(VARIABLE_PREFIXES), re.ASCII)
_INLINE_CODE = re.compile(r'`([^`\n]+)`')
_LINK = re.compile(r'\]\(([^)\s]+)\)')
_HEADING = re.compile(r'^(#{1,6}) ')
_BULLET = re.compile(r'^\s*- ')
_NUMBERED = re.compile(r'^\s*\d+\. ')


def read(name):
    with open(os.path.join(_ROOT, name), encoding='utf-8') as f:
        return f.read()


def split_code(text):
    """(prose lines, code blocks): the fenced blocks, each a string with its fences' indentation kept."""
    prose, blocks, block = [], [], None
    for line in text.splitlines():
        if line.lstrip().startswith('```'):
            if block is None:
                block = [line]
            else:
                block.append(line)
                blocks.append('\n'.join(block))
                block = None
        elif block is not None:
            block.append(line)
        else:
            prose.append(line)
    assert block is None, 'a code block is not closed'
    return prose, blocks


def names(text):
    """What a README names, by kind, each kind a set."""
    prose, blocks = split_code(text)
    prose_text = '\n'.join(prose)
    return {
        'make targets': set(_MAKE.findall(text)),
        'playbooks': set(_PLAYBOOK_PATH.findall(text)) | {n for n in _BARE_YML.findall(text) if n in PLAYBOOKS},
        'variables': set(_VARIABLE.findall(text)),
        'inline code': set(_INLINE_CODE.findall(prose_text)),
        'code blocks': set(blocks),
        'links': set(_LINK.findall(prose_text)) - {EN, JA},
    }


def outline(text):
    """Per section (in order): its heading level and how many paragraphs, bullets, numbered items, table rows
    and code blocks it has. The heading's text is kept aside, for messages only."""
    sections = [['(top)', 0, collections.Counter()]]
    in_code = False
    after_blank = True
    for line in text.splitlines():
        starts_paragraph, after_blank = after_blank, not line.strip()
        if line.lstrip().startswith('```'):
            if not in_code:
                sections[-1][2]['code blocks'] += 1
            in_code = not in_code
            continue
        if in_code or not line.strip():
            continue
        heading = _HEADING.match(line)
        if heading:
            sections.append([line, len(heading.group(1)), collections.Counter()])
            after_blank = True
        elif _BULLET.match(line):
            sections[-1][2]['bullets'] += 1
        elif _NUMBERED.match(line):
            sections[-1][2]['numbered items'] += 1
        elif line.startswith('|'):
            sections[-1][2]['table rows'] += 1
        elif starts_paragraph:
            sections[-1][2]['paragraphs'] += 1
    return sections


def differences(en, ja):
    """One line per kind whose sets differ, naming what each side lacks."""
    en_names, ja_names = names(en), names(ja)
    out = []
    for kind in en_names:
        missing_ja = sorted(en_names[kind] - ja_names[kind])
        missing_en = sorted(ja_names[kind] - en_names[kind])
        if missing_ja:
            out.append('%s missing from %s (in %s only): %s' % (kind, JA, EN, missing_ja))
        if missing_en:
            out.append('%s missing from %s (in %s only): %s' % (kind, EN, JA, missing_en))
    return out


def outline_differences(en, ja):
    en_outline, ja_outline = outline(en), outline(ja)
    out = []
    if len(en_outline) != len(ja_outline):
        out.append('%s has %d headings, %s has %d' % (EN, len(en_outline) - 1, JA, len(ja_outline) - 1))
    for (en_head, en_level, en_counts), (ja_head, ja_level, ja_counts) in zip(en_outline, ja_outline):
        if en_level != ja_level or en_counts != ja_counts:
            out.append('section %r / %r: level %d, %s in %s; level %d, %s in %s'
                       % (en_head, ja_head, en_level, dict(en_counts), EN, ja_level, dict(ja_counts), JA))
    return out


@pytest.mark.parametrize('kind', ['make targets', 'playbooks', 'variables', 'inline code', 'code blocks', 'links'])
def test_same_names(kind):
    found = [d for d in differences(read(EN), read(JA)) if d.startswith(kind + ' ')]
    assert not found, '\n'.join(found)


def test_same_outline():
    found = outline_differences(read(EN), read(JA))
    assert not found, '\n'.join(found)


def test_each_links_to_the_other():
    assert LINK_TO_JA in read(EN), '%s does not link to %s' % (EN, JA)
    assert LINK_TO_EN in read(JA), '%s does not link to %s' % (JA, EN)


@pytest.mark.parametrize('name, link', [(EN, LINK_TO_JA), (JA, LINK_TO_EN)])
def test_two_commands_first_then_the_link(name, link):
    """The file opens with its title and the block of the two commands; the link to the other language follows
    before the first section."""
    lines = read(name).splitlines()
    assert lines[0] == '# lticontainer.hub'
    assert lines[2] == '```sh'
    end = lines.index('```', 3)
    assert [line.split()[:2] for line in lines[3:end]] == [['make', 'sandbox'], ['make', 'test']]
    first_make = next(i for i, line in enumerate(lines) if _MAKE.search(line))
    assert first_make == 3
    link_line = next((i for i, line in enumerate(lines) if link in line), None)
    assert link_line is not None, '%s has no line with %s' % (name, link)
    first_section = next(i for i, line in enumerate(lines) if line.startswith('## '))
    assert end < link_line < first_section, \
        '%s: the link %s is not between the two commands and the first section' % (name, link)


def test_the_check_sees_a_drift():
    """The comparison is not vacuous: a variable, a make target or a list item gone from one side is reported."""
    en = '# t\n\nSet `tls_source` and `verify_hub_url`, then `make sandbox` and `playbooks/site.yml`.\n\n- one\n- two\n'
    ja = '# t\n\n`tls_source` を設定し、`make sandbox` と `playbooks/site.yml` を実行します。\n\n- 一\n'
    assert differences(en, en) == []
    assert differences(en, ja) == [
        "variables missing from README.ja.md (in README.md only): ['verify_hub_url']",
        "inline code missing from README.ja.md (in README.md only): ['verify_hub_url']",
    ]
    assert len(outline_differences(en, ja)) == 1
    assert names('`tls_source`を、lticontainerspawner_config.py、hub_backup_dirに')['variables'] == \
        {'tls_source', 'hub_backup_dir'}
    assert names('`make sandbox-down`、make targets、site.yml と hosts.yml')['make targets'] == {'sandbox-down'}
    assert names('site.yml と hosts.yml')['playbooks'] == {'site.yml'}
