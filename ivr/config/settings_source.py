"""How a settings class is read from an environment mapping, and how its errors are told.

Owns pydantic-settings' environment source over a given mapping (so `from_env` takes the
process environment or a test's dict alike) and the one-line `ConfigError` made from
pydantic's multi-line report: the variable, its value and what a good value looks like.
Knows no field of the product's settings (`ivr/config/settings.py` declares those); must not
import anything of the product beyond its errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource

from ivr.domain.errors import ConfigError

S = TypeVar("S", bound=BaseSettings)


def env(name: str, description: str, default: Any = None, unset: str | None = None,
        **limits: Any) -> Any:
    """One setting: its variable, what it does and, when the default needs words, what unset
    means (the README table's columns). `limits` are pydantic's (`ge`, `gt`, `repr`)."""
    extra: dict[str, Any] | None = {"unset": unset} if unset else None
    return Field(default, validation_alias=name, description=description,
                 json_schema_extra=extra, **limits)


def env_factory(name: str, description: str, factory: Callable[[], Any], unset: str) -> Any:
    """A setting whose default is computed (a path under the repository)."""
    return Field(default_factory=factory, validation_alias=name, description=description,
                 json_schema_extra={"unset": unset})


def lowered(value: object) -> object:
    """Choices are matched whatever the case (`IVR_TRANSCRIBER=Google`)."""
    return value.strip().lower() if isinstance(value, str) else value


def uppered(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def on_only_if_yes(value: object) -> object:
    """A safety switch is on only for 1, true or yes: any other text is off, so a typo never
    turns a check off (IVR_DEV_MODE, as it always was)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return value


DevFlag = Annotated[bool, BeforeValidator(on_only_if_yes)]


class MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source over `environ` (the process environment, or a
    test's dict), limited to the variables `settings_cls` declares. A value that is empty or
    only spaces counts as unset, as it always has here (`DATABASE_URL=` means SQLite)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        names = {f.validation_alias for f in self.settings_cls.model_fields.values()}
        return {k: v.strip() for k, v in self._environ.items() if k in names and v.strip()}


def checked(settings_cls: type[S], build: Callable[[], S], given: Mapping[str, Any]) -> S:
    """`build()`, with pydantic's multi-line report turned into one ConfigError line naming
    the variable, its value and what it must be (the first problem: fix, run again)."""
    try:
        return build()
    except ValidationError as exc:
        raise ConfigError(problem(settings_cls, exc.errors()[0], given)) from None


def problem(settings_cls: type[BaseSettings], error: Any, given: Mapping[str, Any]) -> str:
    """`NAME='value': use ...` for one of pydantic's errors; `given` holds what was passed,
    by variable (from the environment) or by field name (overrides)."""
    key = str(error["loc"][0]) if error["loc"] else "?"
    fields = settings_cls.model_fields
    field = fields.get(key) or next(
        (f for f in fields.values() if f.validation_alias == key), None)
    name = str(field.validation_alias) if field and field.validation_alias else key
    raw = given.get(key, error.get("input"))
    return f"{name}={raw!r}: {must_be(field, error)}"


def must_be(field: FieldInfo | None, error: Any) -> str:
    """What a good value looks like, from the field's type and limits."""
    if error["type"] == "literal_error":
        return "use " + error["ctx"]["expected"]
    kind = field.annotation if field else None
    if kind is bool:
        return "use 1 (on) or 0 (off)"
    if kind not in (int, float, int | None, float | None):
        return str(error["msg"])
    limits = {k: getattr(m, k) for m in (field.metadata if field else ())
              for k in ("ge", "gt", "le") if getattr(m, k, None) is not None}
    bound = (f" from {limits['ge']:g} to {limits['le']:g}" if {"ge", "le"} <= set(limits) else
             f" of at least {limits['ge']:g}" if "ge" in limits else
             f" above {limits['gt']:g}" if "gt" in limits else "")
    return ("use a whole number" if kind in (int, int | None) else "use a number") + bound
