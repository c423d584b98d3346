"""What the caller's keys or words mean: menu choices, digit entry, survey answers, checksums.

Pure functions over the parsed event fields (`digits`, `speech`, `confidence`), so the
matching rules are tested without building a call. Speech is matched on whole words after
lower-casing and dropping punctuation, so "I want to talk to an agent, please" picks the
human option but "agentic" does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from ivr.domain.flow.model import NO_WORDS, YES_WORDS, MenuNode, MenuOption, human_words

SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9",
}

Human = Literal["human"]


def normalise(speech: str | None) -> str:
    """Lower-case words separated by single spaces, no punctuation (accents kept)."""
    return " ".join(re.findall(r"[\w']+", (speech or "").lower()))


def says(speech: str, phrases: Iterable[str]) -> bool:
    padded = f" {speech} "
    return any(f" {normalise(p)} " in padded for p in phrases if p.strip())


def spoken_digits(speech: str | None) -> str:
    """"one zero 0 8" -> "1008": Twilio returns digits as numerals or words."""
    out = []
    for word in normalise(speech).split():
        if word.isdigit():
            out.append(word)
        elif word in SPOKEN_DIGITS:
            out.append(SPOKEN_DIGITS[word])
    return "".join(out)


def _synonyms(option: MenuOption, language: str) -> tuple[str, ...]:
    return option.speech.get(language, ()) + option.speech.get("*", ())


def menu_hints(menu: MenuNode, language: str) -> tuple[str, ...]:
    words = [w for o in menu.options for w in _synonyms(o, language)]
    if menu.human:
        words += human_words(language)
    return tuple(dict.fromkeys(words))


def match_menu(menu: MenuNode, digits: str, speech: str | None,
               language: str) -> MenuOption | Human | None:
    """The option the caller chose, "human" for 0/agent, or None for invalid input.

    Options win over the built-in human route: a menu that maps '0' or lists "agent" as a
    synonym keeps its own meaning (the issue's "unless the menu overrides key 0").
    """
    keys = {o.key: o for o in menu.options}
    if digits:
        choice = keys.get(digits[:1])
        if choice is not None:
            return choice
        return "human" if menu.human and digits[:1] == "0" else None
    heard = normalise(speech)
    for option in menu.options:
        if says(heard, _synonyms(option, language)):
            return option
    if menu.human and says(heard, human_words(language)):
        return "human"
    key = spoken_digits(heard)
    if len(key) == 1 and key in keys:
        return keys[key]
    return None


def asks_for_human(digits: str, speech: str | None, language: str) -> bool:
    """True for a lone 0, or (with no keys pressed) words such as "agent" or "operator":
    the way to a person that menus offer, also while an input or survey node is asking."""
    if digits:
        return digits == "0"
    return says(normalise(speech), human_words(language))


def luhn_ok(digits: str) -> bool:
    """Luhn (ISO/IEC 7812): cards and many account numbers; the last digit checks the rest."""
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def mod10_ok(digits: str) -> bool:
    """GS1 mod 10 (UPC/EAN style): weights 3,1,3,1... from the right of the payload."""
    payload, check = digits[:-1], int(digits[-1])
    total = sum(int(ch) * (3 if index % 2 == 0 else 1)
                for index, ch in enumerate(reversed(payload)))
    return (10 - total % 10) % 10 == check


def digits_ok(digits: str, min_length: int, max_length: int, checksum: str) -> bool:
    if not digits.isdigit() or not min_length <= len(digits) <= max_length:
        return False
    if checksum == "luhn":
        return luhn_ok(digits)
    if checksum == "mod10":
        return len(digits) > 1 and mod10_ok(digits)
    return True


def survey_answer(kind: str, digits: str, speech: str | None) -> int | str | None:
    """A scale question takes 1-5; yes/no takes 1 (yes), 2 (no) or the words. None = invalid."""
    heard = normalise(speech)
    if kind == "yes_no":
        if digits[:1] == "1" or (not digits and says(heard, YES_WORDS)):
            return "yes"
        if digits[:1] == "2" or (not digits and says(heard, NO_WORDS)):
            return "no"
        return None
    key = digits[:1] or spoken_digits(heard)[:1]
    return int(key) if key in ("1", "2", "3", "4", "5") else None
