"""The inline <style> in index.html (the skeleton's first paint and the login form without
waiting for a stylesheet): the CSP admits exactly it by hash, and it is a verbatim part of
static/app.css, so the page looks the same before and after app.css arrives and the two
never drift apart. app.css itself is preloaded and applied by early.js: no stylesheet in the
markup, which would block the first paint (head) or the deferred early.js (body)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from server.security_headers import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[2]
HTML = (ROOT / "index.html").read_text(encoding="utf-8")
APP_CSS = (ROOT / "static" / "app.css").read_text(encoding="utf-8")


def inline_styles(html: str) -> list[str]:
    """The text of each <style> element (HTML comments are not elements)."""
    return re.findall(r"<style>(.*?)</style>", re.sub(r"<!--.*?-->", "", html, flags=re.S), flags=re.S)


def csp_hash(text: str) -> str:
    """The CSP source expression for an inline block: sha256 of its exact UTF-8 text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def directive(csp: str, name: str) -> list[str]:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in the CSP")


def top_level_rules(css: str) -> list[str]:
    """Each top-level rule or at-rule block, comments dropped, whitespace collapsed."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules, depth, start = [], 0, 0
    for i, char in enumerate(css):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                rules.append(" ".join(css[start:i + 1].split()))
                start = i + 1
    assert depth == 0 and css[start:].strip() == "", "unbalanced braces"
    return rules


def is_in_order_within(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(any(rule == other for other in rest) for rule in part)


def test_the_page_has_exactly_one_inline_style():
    assert len(inline_styles(HTML)) == 1


def test_the_csp_admits_the_inline_style_by_its_hash_and_nothing_else_inline():
    (style,) = inline_styles(HTML)
    assert directive(CONTENT_SECURITY_POLICY, "style-src") == ["'self'", csp_hash(style)]


def test_the_hash_changes_when_the_style_changes_by_one_character():
    (style,) = inline_styles(HTML)
    assert csp_hash(style + " ") not in CONTENT_SECURITY_POLICY


def test_the_inline_rules_are_app_css_rules_verbatim_and_in_app_css_order():
    # Same selectors, same declarations, same order: once app.css loads (later in the
    # document) every inline declaration is restated with the same specificity, so the
    # cascade ends exactly where app.css alone would.
    (style,) = inline_styles(HTML)
    inline, whole = top_level_rules(style), top_level_rules(APP_CSS)
    assert inline and all(rule in whole for rule in inline), [r for r in inline if r not in whole]
    assert is_in_order_within(inline, whole)


def classes_in(markup: str) -> set[str]:
    return {name for attr in re.findall(r'class="([^"]*)"', markup) for name in attr.split()}


def inline_selector_classes() -> set[str]:
    (style,) = inline_styles(HTML)
    return set(re.findall(r"\.([A-Za-z][\w-]*)", re.sub(r"\{[^{}]*\}", "", style)))


def test_the_inline_style_covers_every_class_the_skeleton_and_the_login_form_use():
    # Nothing in the boot screen (nor the skip link above it) nor the login form may wait for app.css.
    shown_first = re.search(r'<a class="skip-link".*?<div id="boot-screen".*?<main id="login-screen".*?</main>',
                            HTML, flags=re.S)
    assert shown_first, "the skip link, boot screen and login form are no longer in that order"
    assert classes_in(shown_first.group(0)) - inline_selector_classes() == set()


def test_the_inline_style_covers_the_boot_messages_classes():
    # static/boot-status.js draws the progress and the failure message (with its Retry button)
    # over the skeleton or under the login form, before app.css may be in.
    script = (ROOT / "static" / "boot-status.js").read_text(encoding="utf-8")
    made = {name for text in re.findall(r'make\("\w+", "([^"]*)"', script) for name in text.split()}
    assert {"boot-status", "boot-progress", "boot-notice", "btn", "btn-primary"} <= made
    styled = set(re.findall(r"\.([A-Za-z][\w-]*)", re.sub(r"\{[^{}]*\}", "", re.sub(r"/\*.*?\*/", "", APP_CSS, flags=re.S))))
    assert (made & styled) - inline_selector_classes() == set()  # boot-progress-text: a name, no rule


def test_app_css_is_preloaded_never_linked_as_a_stylesheet_and_applied_by_early_js():
    markup = re.sub(r"<!--.*?-->", "", HTML, flags=re.S)
    assert not re.search(r'<link[^>]*rel="stylesheet"', markup)  # nothing render- or script-blocking
    preloads = re.findall(r'<link rel="preload" href="([^"]+)" as="style">', markup)
    assert preloads == ["./static/app.css"]
    assert markup.index('rel="preload" href="./static/app.css"') < markup.index("</head>")
    early = (ROOT / "static" / "early.js").read_text(encoding="utf-8")
    assert 'querySelectorAll(\'link[rel="preload"][as="style"]\')' in early and 'sheet.rel = "stylesheet"' in early


def test_the_helpers_see_what_they_should():
    assert csp_hash("a") == "'sha256-ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs='"
    assert inline_styles("<!-- <style> --><style>\nx</style>") == ["\nx"]
    assert top_level_rules("/* x */ a { b: c; }\n@media (x) {\n  d { e: f; }\n}\n") == [
        "a { b: c; }", "@media (x) { d { e: f; } }"]
    assert is_in_order_within(["a", "c"], ["a", "b", "c"]) and not is_in_order_within(["c", "a"], ["a", "b", "c"])
