"""The invoke Program behind the ``brickbook`` console script, and the namespace it serves.

Everything here needs invoke; ``brickbook.cli`` (the console script's entry point) imports this module
only once it has kept the imports that script never uses from costing its start. See ``brickbook.cli``
for what the program offers and refuses.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.completion.complete import complete, print_completion_script
from invoke.exceptions import Exit, ParseError
from invoke.parser.argument import Argument
from invoke.parser.context import ParserContext
from invoke.parser.parser import Parser
from invoke.program import Program

from brickbook import __version__
from brickbook.command import RUNTIME_CONFIG_KEY
from brickbook.tasks import AREAS, collection

__all__ = ["BrickbookProgram", "build_namespace", "namespace_for", "program_for"]

USAGE_EXIT_CODE = 2
CORE_OPTIONS = ("help", "version", "list", "list-format", "complete", "print-completion-script")
LIST_FORMATS = ("flat", "nested", "json")
# Core options that read the whole namespace (listing, completion): with them, load every task.
WHOLE_NAMESPACE_OPTIONS = ("-l", "--list", "--complete", "--print-completion-script")
# Options every task takes: given before the task name, they deserve a pointer to where they go.
TASK_OPTIONS = ("-o", "--output", "-p", "--profile", "-l", "--log-format", "-d", "--debug")
_NO_IDEA = re.compile(r"^No idea what '(.*)' is!$", re.DOTALL)
_FLAG = re.compile(r"^Flag <Argument: ([^ >]+).*?> (needed value|doesn't take any value)")
_MISSING = re.compile(r"^'(.+)' did not receive required positional arguments: (.+)$")


def _help_first(argv: list[str] | None) -> list[str]:
    """Turn ``brickbook TASK ... --help`` into ``brickbook --help TASK``.

    invoke would otherwise hand ``--help`` to a task's pending positional argument as its value.
    """
    if argv is None:
        argv = sys.argv
    for position, token in enumerate(argv[1:], start=1):
        if token in ("--help", "-h"):
            task = next((t for t in argv[1:position] if not t.startswith("-")), None)
            if task is not None:
                return [argv[0], "--help", task]
    return argv


def _unknown_token(token: str, task: str | None) -> str:
    """What to say about a word invoke could not place: an unknown option, task or extra argument."""
    where = f"brickbook --help {task}" if task else "brickbook --help"
    if token.startswith("-") and task:
        return f"{task} has no option {token}; see {where}"
    if token.startswith("-"):
        after = " (options every task takes go after the task name)" if token in TASK_OPTIONS else ""
        return f"{token} is not a brickbook option{after}; see {where}"
    if task:
        return f"{token!r} is neither a task nor an argument of {task}; see {where}"
    return f"no task named {token!r}; see brickbook --list"


def _usage_message(error: ParseError) -> str:
    """Say what is wrong with the command line and what to type instead, in brickbook's words."""
    text = str(error)
    task = getattr(error.context, "name", None)
    where = f"brickbook --help {task}" if task else "brickbook --help"
    unknown = _NO_IDEA.match(text)
    flag = _FLAG.match(text)
    missing = _MISSING.match(text)
    if unknown:
        message = _unknown_token(unknown.group(1), task)
    elif flag:
        name = "--" + flag.group(1).replace("_", "-")
        problem = "needs a value" if flag.group(2) == "needed value" else "takes no value"
        message = f"{name} {problem}; see {where}"
    elif missing:
        message = f"{missing.group(1)} is missing {missing.group(2).replace(chr(39), '')}; see {where}"
    else:
        message = text if "see brickbook" in text else f"{text.rstrip('.!')}; see {where}"
    return message


@contextmanager
def _usage_errors() -> Iterator[None]:
    """Turn command-line parse errors into one ``error:`` line and exit 2, like every usage error."""
    try:
        yield
    except ParseError as error:
        raise Exit(f"error: {_usage_message(error)}", code=USAGE_EXIT_CODE) from None
    except ValueError as error:  # invoke converting a typed option's value, e.g. int('abc')
        raise Exit(f"error: invalid option value: {error}", code=USAGE_EXIT_CODE) from None


class BrickbookProgram(Program):
    """invoke's Program with only the core options brickbook honours; parse errors exit 2 (usage).

    ``runtime`` overrides fields of every task's ``Context`` (``clock``, ``sleep``, ``wall``, ``rng``):
    it is how an embedding program or a test gives the tasks its own time, passed explicitly through
    the invoke config (key ``brickbook_runtime``) instead of patched into globals.
    """

    def __init__(self, *args: Any, runtime: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task_runtime = dict(runtime or {})

    def create_config(self) -> None:
        super().create_config()
        if self.task_runtime:
            self.config[RUNTIME_CONFIG_KEY] = self.task_runtime  # type: ignore[assignment]  # any value fits

    def core_args(self) -> list[Argument]:
        return [arg for arg in super().core_args() if arg.names[0] in CORE_OPTIONS]

    def task_args(self) -> list[Argument]:
        return []  # the namespace is bundled: no --collection, --search-root or --no-dedupe

    def parse_core(self, argv: list[str] | None) -> None:
        # invoke's parse_core also reads --write-pyc and --debug, which brickbook does not offer.
        with _usage_errors():
            self.normalize_argv(_help_first(argv))
            self.parse_core_args()
            self._print_and_exit()

    def parse_tasks(self) -> None:
        with _usage_errors():
            super().parse_tasks()

    def _make_parser(self) -> Parser:
        # invoke builds (and deep-copies, twice) a parser context for every task on every start. The
        # parser enters a context only on a token equal to its name or alias, so contexts for the tasks
        # this command line names (and --help's target) parse exactly alike, at a fraction of the cost;
        # completion, which offers every task, still gets them all.
        named = set(self.core.unparsed)
        wanted = self.args.help.value
        if isinstance(wanted, str):
            named.add(wanted)
        everything = bool(self.args.complete.value)
        contexts = [
            ParserContext(
                name=primary,
                aliases=aliases,
                args=self.collection[primary].get_arguments(
                    ignore_unknown_help=self.config.tasks.ignore_unknown_help
                ),
            )
            for primary, aliases in self.collection.task_names.items()
            if everything or primary in named or named.intersection(aliases)
        ]
        return Parser(initial=self.initial_context, contexts=contexts)

    def parse_cleanup(self) -> None:
        # invoke's parse_cleanup, less --list-depth, with usage errors of our own and two additions:
        # --version and --print-completion-script act even after a task name (they never run it), and
        # anything after '--' is refused, since no brickbook task reads it.
        with _usage_errors():
            self._print_and_exit()
            wanted = self.args.help.value
            if wanted is True:
                self.print_help()
                raise Exit
            if wanted:
                if wanted not in self.parser.contexts:
                    raise ParseError(f"No idea what {wanted!r} is!")
                self.print_task_help(wanted)
                raise Exit
            self._list_if_asked()
            if self.args.complete.value:
                complete(
                    names=self.binary_names,
                    core=self.core,
                    initial_context=self.initial_context,
                    collection=self.collection,
                    parser=self._make_parser(),
                )
            if self.core.remainder:
                raise ParseError(f"brickbook takes nothing after '--' (got {self.core.remainder!r})")
            if not self.tasks and not self.collection.default:
                self.no_tasks_given()

    def update_config(self, merge: bool = True) -> None:
        # No run/sudo/timeouts overrides (those options are gone) and no -f: the runtime config file
        # comes from INVOKE_RUNTIME_CONFIG only, like the rest of the invoke config hierarchy.
        self.config.load_overrides({}, merge=False)
        runtime = os.environ.get("INVOKE_RUNTIME_CONFIG")
        self.config.set_runtime_path(Path(runtime) if runtime else None)
        self.config.load_runtime(merge=False)
        if merge:
            self.config.merge()

    def _print_and_exit(self) -> None:
        if self.args.version.value:
            self.print_version()
            raise Exit
        shell = self.args["print-completion-script"].value
        if shell:
            print_completion_script(shell=shell, names=self.binary_names)
            raise Exit

    def _list_if_asked(self) -> None:
        root = self.args.list.value  # True, or the namespace given
        self.list_format = self.args["list-format"].value
        self.list_depth = 0
        if self.list_format not in LIST_FORMATS:
            raise ParseError(
                f"--list-format must be one of {', '.join(LIST_FORMATS)}, not {self.list_format!r}"
            )
        if not root:
            return
        if isinstance(root, str):
            self.list_root = root
            try:
                self.scoped_collection = self.collection.subcollection_from_path(root)
            except KeyError:
                raise ParseError(f"no task namespace {root!r}; see brickbook --list") from None
        self.list_tasks()
        raise Exit


def build_namespace(areas: Sequence[str] = AREAS, *, runbooks: bool = True) -> Collection:
    """Return what ``brickbook`` serves: the primitive tasks of ``areas``, and ``runbook.*`` and ``demo``."""
    served = Collection()
    for area in areas:
        served.add_collection(collection(area), name=area)
    if runbooks:
        import runbooks as named_runbooks
        from runbooks.demo import demo

        served.add_collection(named_runbooks.namespace, name="runbook")
        served.add_task(demo)
    return served


def namespace_for(argv: Sequence[str]) -> Collection:
    """Return the part of the namespace a command line can reach, so that a start imports only that.

    ``brickbook jobs.list ...`` needs the ``jobs`` tasks alone: the other areas, the runbooks and their
    engine are not imported. Anything less clear-cut gets everything (no task named, a runbook or
    ``demo``, listing or completion asked for anywhere), and then parsing is what it always was.
    Naming a few areas too many (a value that looks like ``fs.x``) only costs their import.
    """
    areas: list[str] = []
    for token in argv[1:]:
        if token == "--":
            break
        if token in WHOLE_NAMESPACE_OPTIONS or token.startswith(("--list=", "--complete=")):
            return build_namespace()  # also after a task name: -l there is --log-format, costing only time
        head, dot, _ = token.partition(".")
        if token == "demo" or (dot and head == "runbook"):
            return build_namespace()
        if dot and head in AREAS and head not in areas:
            areas.append(head)
    if not areas:
        return build_namespace()
    return build_namespace([area for area in AREAS if area in areas], runbooks=False)


def program_for(served: Collection) -> BrickbookProgram:
    """Return the console script's program over ``served``."""
    return BrickbookProgram(name="brickbook", binary="brickbook", version=__version__, namespace=served)
