"""`hnce shell-completion SHELL`: the shell's completion script, the way gh and kubectl
print theirs. `hnce completion` stays the annual completion (年度完成情况) of the platform,
the word its users know; shell completion takes the longer name."""

from __future__ import annotations

from typing import Annotated

import typer

SHELLS = ("bash", "zsh", "fish", "powershell")


def shell_completion(
    shell: Annotated[str, typer.Argument(
        metavar="SHELL", help="bash | zsh | fish | powershell.")] = "bash",
) -> None:
    """Print the completion script of your shell: commands, options and sub-commands complete with Tab.

    \b
    Examples:
      source <(hnce shell-completion bash)             # this shell only
      hnce shell-completion bash >> ~/.bashrc          # every new bash
      hnce shell-completion zsh > "${fpath[1]}/_hnce"  # zsh
      hnce shell-completion fish > ~/.config/fish/completions/hnce.fish
    """
    from hnce_cli.errors import ValidationFailed

    if shell not in SHELLS:
        raise ValidationFailed.one("shell", f"不支持的 shell：{shell} (unsupported shell)",
                                   f"use one of {' | '.join(SHELLS)}")
    from typer._completion_classes import completion_init
    from typer._completion_shared import get_completion_script

    completion_init()
    typer.echo(get_completion_script(prog_name="hnce", complete_var="_HNCE_COMPLETE", shell=shell))
