"""Page security in a real headless Chromium (issue 12, item 7): every page arrives with the
Content-Security-Policy and its companions (ivr/web/security_headers.py) and works under it
(the conftest's watch fails any test whose page breaks the policy; the last test here shows
the watch catches a violation), and flow text typed into the admin editor is shown as text,
never run: not in the highlighted source, the line gutter's tooltip, the error list or the
graph."""

from __future__ import annotations

import re

import pytest

from ivr.web.security_headers import content_security_policy
from tests.browser.test_admin_flows import page, sign_in  # noqa: F401

# the wallboard's events come from the stream service on another port: connect-src names it
from tests.browser.test_wallboard import flask_live_app, live_app  # noqa: F401
from tests.web.test_security_headers import POLICY

pytestmark = pytest.mark.browser
PAGES = ("/admin/flows", "/admin/flows/shop", "/admin/flows/shop/versions/1",
         "/admin/operations", "/admin/prompts", "/admin/agents", "/wallboard",
         "/wallboard?tv=1", "/agent",
         "/tasks")
READY = {"/wallboard": "article[data-queue]", "/wallboard?tv=1": "article[data-queue]",
         "/tasks": "#count:not(:has-text('Loading'))",
         "/admin/flows/shop": "#status.ok", "/agent": "#cb-count:has-text('(')"}
OTHERS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin",
          "x-frame-options": "DENY"}
# A quote ends an attribute, then an element with a handler; a prompt id and a node id.
EVIL = '"><img src=x onerror="window.pwned=1">'
HANDLERS = """() => [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
  .filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name + '=' + a.value))"""


def headers_of(answer) -> dict[str, str]:  # noqa: ANN001
    got = answer.all_headers()
    return {name: got.get(name, "(missing)") for name in ("content-security-policy", *OTHERS)}


def publish_a_version(page) -> None:  # noqa: ANN001, F811
    """A published change through the editor's form (a form post under form-action 'self'):
    the file as found becomes version 1, the change version 2."""
    page.click("text=shop")
    page.wait_for_selector("#status.ok")
    page.fill("#message", "a comment at the end")
    page.fill("#source", page.input_value("#source") + "# checked\n")
    page.wait_for_selector("#status.ok")
    page.click("#publish")
    page.wait_for_selector("text=Published shop version 2")


def test_every_page_sends_the_security_headers_and_works_under_them(live_app, page):  # noqa: F811
    app, base = live_app
    stream = app.config["IVR"].stream_url  # the stream service, on another port
    expected = {"content-security-policy": POLICY.replace(
        "connect-src 'self';", f"connect-src 'self' {stream};"), **OTHERS}
    login = page.goto(f"{base}/login")
    assert headers_of(login) == expected
    sign_in(page, base)
    publish_a_version(page)
    for path in PAGES:
        answer = page.goto(f"{base}{path}")
        assert answer is not None
        assert answer.status == 200, path
        policy = {"content-security-policy": content_security_policy(stream, softphone=True)
                  } if path == "/agent" else {}  # the softphone may reach Twilio
        assert headers_of(answer) == {**expected, **policy}, path
        if path in READY:  # the page's own script ran: it filled this in
            page.wait_for_selector(READY[path])
    # frame-ancestors 'none': a page that frames the wallboard (this one has no policy of its
    # own) gets an error page in the frame, not the board
    page.route(f"{base}/framer", lambda r: r.fulfill(content_type="text/html", body=(
        f'<iframe src="{base}/wallboard" onload="window.loaded = true"></iframe>')))
    page.goto(f"{base}/framer")
    page.wait_for_function("() => window.loaded === true")
    framed = page.evaluate("""() => { const d = document.querySelector('iframe').contentDocument;
      return d !== null && d.querySelector('#queues') !== null; }""")
    assert framed is False
    page.unroute(f"{base}/framer")


def test_flow_text_is_shown_as_text_and_runs_nothing(live_app, page):  # noqa: F811
    app, base = live_app
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, base)
    page.click("text=shop")
    page.wait_for_selector("#status.ok")
    original = page.input_value("#source")
    hostile = original.replace("say: shop_main_menu", f"say: '{EVIL}'", 1) + (
        f"\n  '{EVIL}':\n    type: say\n    say: shop_hours\n    next: main_menu\n")
    line = hostile.splitlines().index(f"    say: '{EVIL}'") + 1
    page.fill("#source", hostile)
    page.wait_for_selector("#status.bad")
    page.wait_for_selector("#graph svg .node")
    mark = page.locator(".gutter-error").filter(has_text=re.compile(f"^{line}$"))
    mark.hover()  # a handler smuggled into the tooltip's attribute would fire here
    title = mark.get_attribute("title")
    assert title is not None
    assert EVIL in title  # the whole message, quote and all, inside the attribute
    assert any(EVIL in e and e.startswith(f"line {line}:")
               for e in page.locator("#errors li").all_text_contents())
    assert f"say: '{EVIL}'" in page.inner_text("#highlight")
    assert EVIL[:22] in page.locator("#graph svg").text_content()  # labels are cut at 22
    assert page.evaluate(HANDLERS) == []
    assert page.locator("#flow-editor img, #graph img").count() == 0
    assert page.evaluate("() => window.pwned") is None
    assert dialogs == []


def test_the_watch_catches_a_policy_violation(live_app, page, no_csp_violations):  # noqa: F811
    """The conftest's watch itself: a page under the policy with an inline script is
    reported (and the report cleared here, so this test passes)."""
    app, base = live_app
    page.route(f"{base}/probe", lambda r: r.fulfill(
        content_type="text/html", headers={"Content-Security-Policy": POLICY},
        body="<p id=p>static</p><script>document.getElementById('p').textContent='ran'</script>"))
    page.goto(f"{base}/probe")
    page.wait_for_timeout(200)
    page.evaluate("() => 1")  # a round trip: the console event has reached Python
    assert page.inner_text("#p") == "static"
    assert any("script-src" in v for v in no_csp_violations), no_csp_violations
    no_csp_violations.clear()
