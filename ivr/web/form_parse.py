"""The webhook lane's url-encoded form parsers: the library's (`urllib.parse.parse_qsl`, which
werkzeug's form parser calls too) and a one-pass one giving the same values (IVR_FAST_FORM).

Why: `parse_qsl` returns pairs that the lane then folded into `FormValues` (for the signature)
and again into a dict of first values (for the call), a few microseconds each of a webhook's
CPU; Twilio's forms are ten to twenty fields, most without a `%` or a `+`. `parse_form` makes
both in one pass and unquotes only what needs it.

The contract (tests/web/test_form_parse.py, a property test against both libraries): for every
body it accepts, the same names, values and order as `parse_qsl(body.decode(), keep_blank_values
=True)` and as werkzeug's `request.form`: `+` is a space, `%XX` is unquoted, an escape that is
not one (`%zz`, `%4`) is kept as written, a name without `=` has the empty value, empty pieces
are skipped, repeated names keep all their values in order. It refuses (None) a body that is
not UTF-8 and a body whose escapes unquote to bytes that are not (`%FF`): `parse_qsl` would
give U+FFFD there and werkzeug the escape itself, so the lane hands such a request to Flask,
whose views answer it as they always did. Must not import Flask.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from ivr.phone.twilio_auth import FormValues

Parsed = tuple[FormValues, dict[str, str]]  # every value by name (signing), the first of each


def library_form(raw: bytes) -> Parsed | None:
    """The form as `parse_qsl` reads it (IVR_FAST_FORM=0); None when the body is not UTF-8."""
    try:
        form = FormValues.of(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None
    return form, form.first()


def parse_form(raw: bytes) -> Parsed | None:
    """The same as `library_form` in one pass, or None (see the module docstring)."""
    try:
        text = raw.decode("utf-8")
        values = FormValues()
        first: dict[str, str] = {}
        for piece in text.split("&"):
            if not piece:
                continue
            name, _, value = piece.partition("=")
            if "+" in piece:
                name, value = name.replace("+", " "), value.replace("+", " ")
            if "%" in piece:
                if piece.count("%") == piece.count("%2B"):  # a number's +, the usual escape
                    name, value = name.replace("%2B", "+"), value.replace("%2B", "+")
                else:
                    name = unquote(name, errors="strict")
                    value = unquote(value, errors="strict")
            got = values.get(name)
            if got is None:
                values[name] = [value]
                first[name] = value
            else:
                got.append(value)
    except UnicodeDecodeError:
        return None
    return values, first
