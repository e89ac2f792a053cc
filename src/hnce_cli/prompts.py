"""Wizard prompts that check each answer as it is given.

The wizards of `hnce register` and `hnce declare new` (on a terminal) ask one question
at a time. Each answer is checked at once by the very function the service runs on the
whole form (`hnce_cli.validation`, `hnce_cli.text`), so the wizard refuses exactly what
the service would, in the same words. A refused answer is told under its question, in
full with its fix (a prompt's one-line toolbar would cut a bilingual message at 80
columns), and the same question is asked again in an empty field — the Up arrow brings
the refused answer back to correct a single digit. Nothing is sent until every answer
is right, so a typo never costs the answers typed after it.

Ctrl-C or Ctrl-D at any question ends the command with exit 130 (cancelled): nothing
was sent, nothing was changed.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

from hnce_cli.errors import FieldProblem, ValidationFailed

T = TypeVar("T")

CANCELLED = 130  # as for Ctrl-C everywhere (docs/exit-codes.md)
CANCELLED_MESSAGE = "已取消，未做任何修改 (cancelled; nothing was changed)"
RETRY_HINT = "（↑ 取回上次输入修改）"


@contextlib.contextmanager
def cancellable() -> Iterator[None]:
    """Ctrl-C / Ctrl-D at a question: 已取消 on standard error, exit 130."""
    import typer

    try:
        yield
    except (KeyboardInterrupt, EOFError):
        sys.stdout.flush()
        sys.stderr.write(f"\n{CANCELLED_MESSAGE}\n")
        sys.stderr.flush()
        raise typer.Exit(CANCELLED) from None


def show_problems(problems: list[FieldProblem]) -> None:
    """A refused answer's problems, under its question: what is wrong, then the fix."""
    from rich.markup import escape

    from hnce_cli.render import stderr_console
    from hnce_cli.text import visible

    console = stderr_console()
    for problem in problems:
        console.print(f"  [bold red]✗[/] {escape(visible(problem.message))}")
        if problem.fix:
            console.print(f"    → {escape(visible(problem.fix))}")


def refused(exc: ValidationFailed) -> list[FieldProblem]:
    return list(exc.problems) or [FieldProblem("", exc.message)]


def fail(problem: FieldProblem) -> ValidationFailed:
    """A problem found by a validator that reports rather than raises, as the error a check raises."""
    return ValidationFailed(f"{problem.field}: {problem.message}", problems=[problem])


def ask(question: str, check: Callable[[str], T], *, given: str | None = None, placeholder: str | None = None,
        instruction: str | None = None, path: bool = False) -> T:
    """Ask until `check` accepts the answer; return what it returns (the value as stored).

    `given`: a value from the command line, checked first; asked only when it is refused.
    `placeholder`: grey text shown in the empty field (never part of the answer).
    """
    import questionary
    from prompt_toolkit.history import InMemoryHistory

    history = InMemoryHistory()
    if given not in (None, ""):
        try:
            return check(given)
        except ValidationFailed as exc:
            sys.stderr.write(f"{question}：\n")
            show_problems(refused(exc))
            history.append_string(given)
    hint = instruction
    while True:
        options: dict = {"history": history}
        if placeholder:
            options["placeholder"] = [("fg:ansibrightblack", placeholder)]
        if path:
            label = f"{question}{'' if hint is None else hint}："
            answer = questionary.path(label, **options).unsafe_ask()
        else:
            answer = questionary.text(f"{question}：", instruction=hint, **options).unsafe_ask()
        try:
            return check(answer)
        except ValidationFailed as exc:
            show_problems(refused(exc))
            if answer.strip():
                history.append_string(answer)
                hint = RETRY_HINT if instruction is None else f"{instruction}{RETRY_HINT}"


def ask_new_password(check: Callable[[str], object], *, policy: str, label: str = "密码") -> str:
    """A new password: the policy shown first, each try checked by it, then typed again;
    two different entries ask for both again."""
    import questionary

    sys.stderr.write(f"{policy}\n")
    sys.stderr.flush()
    while True:
        while True:
            first = questionary.password(f"{label}：").unsafe_ask()
            try:
                check(first)
                break
            except ValidationFailed as exc:  # the policy itself was just shown: only what broke it
                show_problems([FieldProblem(p.field, p.message, None if p.fix == policy else p.fix)
                               for p in refused(exc)])
        again = questionary.password(f"再次输入{label}：").unsafe_ask()
        if again == first:
            return first
        show_problems([FieldProblem("password", "两次输入的密码不一致 (the two passwords differ)",
                                    "请重新设置：输入两次相同的密码 (set it again, typing the same password twice)")])
