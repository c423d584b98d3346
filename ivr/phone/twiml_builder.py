"""A small TwiML builder that writes the XML string directly.

Why not twilio's own `twilio.twiml` builders: they build an ElementTree and serialise it, which
cost about a sixth of a webhook's CPU (devkit/bench/webhook.py). This writes the same document
byte for byte (attributes camelCased and sorted, None left out, booleans as true/false, the
same escaping and the same `<?xml ...?>` prefix), so everything that reads our TwiML, tests
and Twilio alike, sees no difference; tests/web/test_twiml_builder.py compares the two on
every verb we use. Only the verbs and nouns this app speaks are here.
"""

from __future__ import annotations

from typing import Any

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
# twilio's keyword spellings for XML names that are Python keywords or contain dashes
RENAMED = {"from_": "from", "xml_lang": "xml:lang", "interpret_as": "interpret-as",
           "for_": "for", "break_": "break"}


def _camel(name: str) -> str:
    name = RENAMED.get(name, name)
    if "_" not in name:
        return name
    joined = "".join(part.title() for part in name.split("_"))
    return joined[0].lower() + joined[1:]


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: object) -> str:
    raw = str(value).lower() if isinstance(value, bool) else str(value)
    return (_text(raw).replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;")
            .replace("\t", "&#09;"))


class Verb:
    """One TwiML element: a tag, attributes, optional text and nested elements."""

    def __init__(self, tag: str, text: str | None = None, **attrs: Any) -> None:
        self.tag = tag
        self.text = text
        self.attrs = {_camel(k): v for k, v in attrs.items() if v is not None}
        self.children: list[Verb] = []

    def nest(self, tag: str, text: str | None = None, **attrs: Any) -> Verb:
        child = Verb(tag, text, **attrs)
        self.children.append(child)
        return child

    # The verbs and nouns we use, named as in twilio's builders.
    def say(self, message: str | None = None, **attrs: Any) -> Verb:
        return self.nest("Say", message, **attrs)

    def play(self, url: str | None = None, **attrs: Any) -> Verb:
        return self.nest("Play", url, **attrs)

    def pause(self, **attrs: Any) -> Verb:
        return self.nest("Pause", **attrs)

    def gather(self, **attrs: Any) -> Verb:
        return self.nest("Gather", **attrs)

    def enqueue(self, name: str | None = None, **attrs: Any) -> Verb:
        return self.nest("Enqueue", name, **attrs)

    def record(self, **attrs: Any) -> Verb:
        return self.nest("Record", **attrs)

    def dial(self, number: str | None = None, **attrs: Any) -> Verb:
        return self.nest("Dial", number, **attrs)

    def number(self, phone_number: str, **attrs: Any) -> Verb:
        return self.nest("Number", phone_number, **attrs)

    def client(self, identity: str | None = None, **attrs: Any) -> Verb:
        return self.nest("Client", identity, **attrs)

    def redirect(self, url: str, **attrs: Any) -> Verb:
        return self.nest("Redirect", url, **attrs)

    def hangup(self) -> Verb:
        return self.nest("Hangup")

    def leave(self) -> Verb:
        return self.nest("Leave")

    def message(self, body: str | None = None, **attrs: Any) -> Verb:
        return self.nest("Message", body, **attrs)

    def write(self, out: list[str]) -> None:
        out.append("<" + self.tag)
        for name in sorted(self.attrs):
            out.append(f' {name}="{_attr(self.attrs[name])}"')
        if not self.text and not self.children:
            out.append(" />")
            return
        out.append(">")
        if self.text:
            out.append(_text(self.text))
        for child in self.children:
            child.write(out)
        out.append(f"</{self.tag}>")

    def __str__(self) -> str:
        out = [DECLARATION]
        self.write(out)
        return "".join(out)


class VoiceResponse(Verb):
    """`<Response>` of a voice webhook."""

    def __init__(self) -> None:
        super().__init__("Response")


class MessagingResponse(Verb):
    """`<Response>` of an SMS webhook."""

    def __init__(self) -> None:
        super().__init__("Response")
