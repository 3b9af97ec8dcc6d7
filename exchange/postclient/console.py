"""The officer's side of the terminal: secrets read from a prompt or standard input (never from the command
line), and answers written as plain text or, with ``--json``, as one JSON object.

When standard input is a terminal, secrets are read with ``getpass`` (not echoed); otherwise each prompt takes
the next line of standard input, in the order the command asks (password, authenticator code, passphrase), so
a script can pipe them in. The queue passphrase may instead come from ``EXCHANGE_POST_PASSPHRASE``.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

PASSPHRASE_ENV = "EXCHANGE_POST_PASSPHRASE"  # noqa: S105 (the name of a variable, not a secret)
USERNAME_ENV = "EXCHANGE_POST_USERNAME"


class InputMissing(Exception):
    """Standard input ended before a needed answer."""


@dataclass
class Console:
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    as_json: bool = False

    def _read(self, prompt: str, hidden: bool) -> str:
        if self.stdin.isatty():
            return getpass.getpass(prompt) if hidden else input(prompt)
        line = self.stdin.readline()
        if not line:
            raise InputMissing(f"standard input ended before the {prompt.strip(': ').lower()}")
        return line.rstrip("\r\n")

    def secret(self, prompt: str) -> str:
        return self._read(prompt, hidden=True)

    def line(self, prompt: str) -> str:
        return self._read(prompt, hidden=False).strip()

    @property
    def interactive(self) -> bool:
        return self.stdin.isatty()

    def passphrase(self, confirm: bool = False) -> str:
        from_env = self.env.get(PASSPHRASE_ENV)
        if from_env:
            return from_env
        first = self.secret("Queue passphrase: ")
        if confirm and self.interactive and self.secret("Queue passphrase again: ") != first:
            raise InputMissing("the two passphrases differ")
        return first

    def username(self, given: str | None) -> str:
        return given or self.env.get(USERNAME_ENV) or self.line("Username: ")

    def say(self, text: str = "") -> None:
        if not self.as_json:
            print(text, file=self.out)

    def problem(self, text: str) -> None:
        print(f"exchange post: {text}", file=self.err)

    def result(self, obj: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps(obj, ensure_ascii=False), file=self.out)

    def answer(self, title: str, answer: Mapping[str, Any]) -> None:
        """An answer (the service's or the local rules') in the officer's words."""
        rec = answer["recommendation"]
        self.say(title)
        self.say(f"  recommendation: {rec['action'].upper().replace('_', ' ')}")
        for reason in rec["reasons"]:
            self.say(f"  - {reason['text']} ({reason['flag']})")
        if not rec["reasons"]:
            self.say("  no flag raised")
