"""docs/RUNBOOK.md names only what exists: every `manage.py` command with the arguments it is
given, every script, file and systemd unit, every admin label written in bold, every link
within the page; and every Slack alert the store sends has its section. Everything is parsed
from the file, so the runbook can grow without touching this test."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from django.utils.text import capfirst

from notifications.outbox import SLACK_CHANNELS

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = (ROOT / "docs" / "RUNBOOK.md").read_text()
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
SHELL_OPERATORS = {"&&", "||", "|", ";", "&", ">", ">>", "<", "\n"}
PLACEHOLDER, ANY = re.compile(r"<[A-Za-z][^<>\n]*>"), "any"
UNIT = re.compile(r"^(diamonds-[a-z-]+)(@[\w*]*)?(?:\.(service|timer|socket))?$")


def shell_code() -> list[str]:
    """The runbook's code: each fenced block whole, then each inline code span."""
    prose = FENCE.sub("", RUNBOOK)
    return FENCE.findall(RUNBOOK) + [
        " ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)
    ]


def tokens(code: str) -> list[str]:
    """Shell words, with operators and line ends as words of their own (a quoted string may
    span lines); a placeholder such as `<file>` is one word."""
    lexer = shlex.shlex(PLACEHOLDER.sub(ANY, code), posix=True, punctuation_chars="();<>|&\n")
    lexer.whitespace = " \t\r"
    lexer.commenters = "#"
    lexer.wordchars += "@*:=,$/.-~…[]{}+%"
    try:
        return list(lexer)
    except ValueError:  # not shell (an unbalanced quote in prose): no commands in it
        return []


def manage_calls() -> list[tuple[str, list[str]]]:
    """Every `manage.py <command> <args>` and `deploy/manage <command> <args>`."""
    calls = []
    for code in shell_code():
        words = tokens(code)
        for index, word in enumerate(words):
            if word.endswith(("manage.py", "deploy/manage")) and index + 1 < len(words):
                rest = words[index + 1 :]
                end = next((i for i, w in enumerate(rest) if w in SHELL_OPERATORS), len(rest))
                if rest[0] not in (*SHELL_OPERATORS, ANY):  # `manage.py <command>`: any
                    calls.append((rest[0], rest[1:end]))
    return calls


def test_the_runbook_names_commands():
    assert {"check_health", "reconcile_payments", "restore_database"} <= {
        name for name, _ in manage_calls()
    }


@pytest.mark.parametrize(("name", "args"), manage_calls(), ids=lambda v: str(v))
def test_every_manage_command_exists_and_takes_its_arguments(name, args):
    commands = get_commands()
    assert name in commands, f"docs/RUNBOOK.md names `manage.py {name}`, which does not exist"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    try:
        parser.parse_args(args)
    except CommandError as exc:
        pytest.fail(f"`manage.py {name} {' '.join(args)}` in docs/RUNBOOK.md: {exc}")


def named_paths() -> set[str]:
    """Words in the runbook's code that are paths inside this repository."""
    top = {entry.name for entry in ROOT.iterdir()}
    return {
        word.rstrip(".,:")
        for code in shell_code()
        for word in tokens(code)
        if "/" in word and word.split("/")[0] in top and "<" not in word
    }


def test_every_script_and_file_named_exists():
    paths = named_paths()
    assert {"deploy/manage", "deploy/README.md"} <= paths
    missing = sorted(path for path in paths if not (ROOT / path.split("#")[0]).exists())
    assert not missing, f"docs/RUNBOOK.md names files that do not exist: {missing}"


def test_every_systemd_unit_named_is_in_deploy():
    """`diamonds-web`, `diamonds-backup.timer`, `diamonds-worker@3`, `'diamonds-worker@*'`…"""
    units = {m for code in shell_code() for w in tokens(code) if (m := UNIT.match(w))}
    assert {"diamonds-backup.service", "diamonds-worker@*"} <= {m[0] for m in units}
    files = {path.name for path in (ROOT / "deploy" / "systemd").iterdir()}
    for m in units:
        expected = f"{m[1]}{'@' if m[2] else ''}.{m[3] or 'service'}"
        assert expected in files, f"docs/RUNBOOK.md names {m[0]}: no deploy/systemd/{expected}"


def admin_words() -> str:
    """Everything the admin can show: the project's templates and code, and the model names
    of its registered admins."""
    sources = [
        path.read_text()
        for pattern in ("*.py", "*.html")
        for path in ROOT.rglob(pattern)
        if not {".venv", "node_modules", "tests", "benchmarks", "tools"} & set(path.parts)
    ]
    names = [capfirst(str(m._meta.verbose_name_plural)) for m in admin.site._registry]
    return "\n".join(sources + names)


def test_every_bold_label_is_one_the_admin_shows():
    labels = {" ".join(label.split()) for label in re.findall(r"\*\*(.+?)\*\*", RUNBOOK, re.S)}
    assert {"Process again", "Retry feed order", "Capture payment"} <= labels
    shown = admin_words()
    missing = sorted(label for label in labels if label not in shown)
    assert not missing, f"bold in docs/RUNBOOK.md but nowhere in the admin: {missing}"


def slug(heading: str) -> str:
    """A heading's anchor, as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_within_the_page_finds_its_heading():
    anchors = {slug(h) for h in re.findall(r"^#+ (.+)$", FENCE.sub("", RUNBOOK), re.M)}
    links = set(re.findall(r"\]\(#([^)]+)\)", RUNBOOK))
    assert links and links <= anchors, sorted(links - anchors)


def test_every_slack_alert_the_store_sends_has_its_section():
    headings = set(re.findall(r"^### (\S+)$", RUNBOOK, re.M))
    missing = sorted(str(category) for category in SLACK_CHANNELS if category not in headings)
    assert not missing, f"alerts without a section in docs/RUNBOOK.md: {missing}"
