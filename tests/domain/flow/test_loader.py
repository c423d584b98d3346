"""Loader and validator: every problem reported at once, each with its file and exact line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ivr.domain.errors import FlowErrors
from ivr.domain.flow import model
from ivr.domain.flow.loader import load_flow

from .conftest import HEADER_LINES, DictCatalog, flow_text

H = HEADER_LINES  # nodes written in a test start on line H + 1


def problems(text: str, catalog: DictCatalog) -> list[tuple[int, str]]:
    with pytest.raises(FlowErrors) as info:
        load_flow(text, "broken.yaml", catalog)
    assert all(e.file == "broken.yaml" for e in info.value.errors)
    return [(e.line, e.reason) for e in info.value.errors]


def one(text: str, catalog: DictCatalog) -> tuple[int, str]:
    found = problems(text, catalog)
    assert len(found) == 1, found
    return found[0]


MENU = """\
main:
  type: menu
  say: menu
  options:
    '1': agents
"""


def test_valid_flow_loads_with_lines_and_built_ins(make_flow: Callable[..., model.Flow]) -> None:
    flow = make_flow(MENU)
    menu = flow.nodes["main"]
    assert isinstance(menu, model.MenuNode)
    assert menu.line == H + 1
    assert menu.options[0].key == "1"
    assert menu.options[0].line == H + 5
    assert menu.on_failure == "agents"
    assert menu.human_target == "agents"
    assert {model.FALLBACK, model.VOICEMAIL, model.GOODBYE} <= set(flow.nodes)
    assert flow.languages == ("en-US", "es-US")
    assert len(flow.version) == 12


def test_yaml_syntax_error_has_its_line(catalog: DictCatalog) -> None:
    text = flow_text(MENU) + "  broken: [unclosed\n"
    line, reason = one(text, catalog)
    assert line == H + 7
    assert "YAML syntax error" in reason


def test_unquoted_digit_key_says_quote_it(catalog: DictCatalog) -> None:
    line, reason = one(flow_text(MENU.replace("'1':", "1:")), catalog)
    assert line == H + 5
    assert "quote it: '1':" in reason


def test_boolean_key_trap(catalog: DictCatalog) -> None:
    text = flow_text(MENU.replace("'1': agents", "'1': agents\n    yes: agents"))
    line, reason = one(text, catalog)
    assert (line, reason) == (H + 6, "node main: options: key yes is read as a boolean "
                                     "(YAML 1.1); quote it: 'yes':")


def test_unquoted_time_becomes_1050_and_is_reported(catalog: DictCatalog) -> None:
    text = flow_text(MENU).replace('weekly: {mon-fri: "09:00-17:00"}',
                                   "weekly: {mon-fri: {open: '09:00', close: 17:30}}")
    line, reason = one(text, catalog)
    assert line == 15
    assert "17:30 is read as the number 1050" in reason
    assert "quote it: '17:30'" in reason


def test_unquoted_phone_number(catalog: DictCatalog) -> None:
    text = flow_text(MENU).replace('numbers: ["+15550000001"]', "numbers: [+15550000001]")
    line, reason = one(text, catalog)
    assert line == 2
    assert "quote it: '+15550000001'" in reason


def test_schema_errors_are_all_reported_together(catalog: DictCatalog) -> None:
    text = flow_text("""\
main:
  type: menu
  say: menu
  timeout: soon
  retries: true
  colour: blue
  options:
    '1': agents
odd:
  type: teleport
""")
    found = problems(text, catalog)
    assert (H + 4, "node main: timeout must be a whole number, not text") in found
    assert (H + 5, "node main: retries must be a whole number, not true/false") in found
    assert any(line == H + 6 and "unknown field 'colour'" in r for line, r in found)
    assert any(line == H + 10 and "unknown node type 'teleport'" in r for line, r in found)


def test_missing_required_field_and_section(catalog: DictCatalog) -> None:
    text = flow_text("""\
main:
  type: input
  say: ask
  next: agents
""").replace("start: main\n", "")
    found = problems(text, catalog)
    assert (1, "missing required section 'start'") in found
    assert (H + 1, "node main (input): missing required field 'store'") in found


def test_unknown_target(catalog: DictCatalog) -> None:
    line, reason = one(flow_text(MENU.replace("'1': agents", "'1': nowhere")), catalog)
    assert line == H + 5
    assert "unknown target 'nowhere'" in reason


def test_missing_prompt_in_one_language(catalog: DictCatalog) -> None:
    line, reason = one(flow_text(MENU.replace("say: menu", "say: only_en")), catalog)
    assert line == H + 3
    assert "prompt 'only_en' has no es-US text" in reason


def test_inline_text_is_the_fallback_for_a_missing_prompt(
        make_flow: Callable[..., model.Flow]) -> None:
    flow = make_flow(MENU.replace("say: menu", "say: {prompt: only_en, text: Solo inglés.}"))
    prompt = flow.nodes["main"].say[0]
    assert prompt.texts["en-US"].source == "English only."
    assert prompt.texts["es-US"].source == "Solo inglés."


def test_unreachable_node(catalog: DictCatalog) -> None:
    line, reason = one(flow_text(MENU + "lonely:\n  type: hangup\n"), catalog)
    assert line == H + 6
    assert "lonely is unreachable" in reason


def test_dead_end(catalog: DictCatalog) -> None:
    line, reason = one(flow_text("main:\n  type: say\n  say: hello\n"), catalog)
    assert line == H + 1
    assert "dead end" in reason
    assert "next:" in reason


def test_loop_without_waiting(catalog: DictCatalog) -> None:
    found = problems(flow_text("""\
main: {type: say, say: hello, next: again}
again: {type: goto, goto: main}
"""), catalog)
    assert any("loop without waiting for the caller" in r and "again -> main -> again" in r
               or "main -> again -> main" in r for _, r in found)


def test_menu_with_no_way_to_a_human(catalog: DictCatalog) -> None:
    found = problems(flow_text("""\
main:
  type: menu
  say: menu
  human: false
  on_failure: bye
  options:
    '1': bye
bye: {type: hangup}
"""), catalog)
    assert (H + 1, "menu main has no way to a human: set human: true, or give an option or "
                   "on_failure that leads to a queue") in found


def test_unknown_queue(catalog: DictCatalog) -> None:
    text = flow_text(MENU.replace("'1': agents", "'1': billing") + """\
billing:
  type: queue
  queue: billing
""")
    line, reason = one(text, catalog)
    assert line == H + 8
    assert "unknown queue 'billing'" in reason


def test_repeated_key_is_reported(catalog: DictCatalog) -> None:
    line, reason = one(flow_text(MENU + "    '1': agents\n"), catalog)
    assert line == H + 6
    assert "repeats line" in reason


def test_bad_condition_and_unknown_name(catalog: DictCatalog) -> None:
    found = problems(flow_text("""\
main:
  type: branch
  cases:
    - {if: "__import__('os').system('x')", goto: agents}
    - {if: "secret.value > 3", goto: agents}
  else: agents
"""), catalog)
    lines = [line for line, _ in found]
    assert H + 4 in lines
    assert (H + 5) in lines
    assert any("unknown name 'secret'" in r for _, r in found)


def test_unknown_template_filter(catalog: DictCatalog) -> None:
    line, reason = one(flow_text(MENU.replace("say: menu", 'say: {text: "{{ caller.From | '
                                              'shout }}"}')), catalog)
    assert line == H + 3
    assert "unknown filter 'shout'" in reason


def test_unknown_schedule_and_bad_timezone(catalog: DictCatalog) -> None:
    text = flow_text("""\
main:
  type: hours
  schedule: weekend
  open: agents
  closed: agents
""").replace("timezone: America/Los_Angeles\n    weekly", "timezone: Mars/Olympus\n    weekly")
    found = problems(text, catalog)
    assert any(line == 14 and "'Mars/Olympus' is not an IANA time zone" in r for line, r in found)
    assert any(line == H + 3 and "unknown schedule 'weekend'" in r for line, r in found)


def test_empty_file(catalog: DictCatalog) -> None:
    assert problems("", catalog) == [(1, "the file is empty; see callflows/README.md for "
                                         "the format")]


def test_an_input_where_a_lone_zero_is_an_entry_must_choose(catalog: DictCatalog) -> None:
    nodes = """\
main:
  type: input
  say: ask
  store: how_many
  max_length: 2
  next: agents
"""
    line, reason = one(flow_text(nodes), catalog)
    assert line == H + 1
    assert "a lone 0 is a valid entry here, so 0 cannot reach a person" in reason
    assert "human: false" in reason
    load_flow(flow_text(nodes.replace("  max_length: 2", "  max_length: 2\n  human: false")),
              "ok.yaml", catalog)
    load_flow(flow_text(nodes.replace("  max_length: 2", "  min_length: 2")), "ok.yaml", catalog)
