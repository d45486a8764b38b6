"""A chat in the browser: the page's script sends (once), shows what the live stream's DOM
events bring, marks read and says "seen"; the form works without JavaScript; a hostile body
stays text. Phone-sized screens, Debian's Chromium."""

from __future__ import annotations

import pytest

from tests.fixtures.browser import sign_up
from tests.fixtures.chats import adult, match

pytestmark = pytest.mark.browser

HOSTILE = "</script><img src=x onerror=alert(1)>"


def _member(browser, live_server, db, username, name, javascript=True):
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    sign_up(page, live_server.url, username, name)
    adult(db, username)
    return page


def test_sending_with_the_script_and_receiving_through_dom_events(browser, live_app, live_server):
    db = live_app.extensions["idance.db"]
    ana = _member(browser, live_server, db, "ana", "Ana García")
    ben = _member(browser, live_server, db, "ben", "Ben Okafor")
    key = match(db, "ana", "ben")
    url = f"{live_server.url}/chat/{key}"

    ana.goto(live_server.url + "/matches")
    ana.get_by_role("link", name="Message Ben Okafor").click()
    ana.wait_for_url(url)
    box = ana.get_by_label("Message")
    box.fill("Hello **Ben**")
    # A double click on Send: one key, one message.
    ana.get_by_role("button", name="Send").dblclick()
    ana.locator("#chat-status").filter(has_text="Sent.").wait_for()
    assert ana.locator("li.message.own").count() == 1
    assert ana.locator("li.message.own strong").inner_text() == "Ben"
    assert box.input_value() == ""
    assert ana.url == url  # sent in place, no reload

    box.fill(HOSTILE)
    ana.get_by_role("button", name="Send").click()
    ana.locator("li.message.own").nth(1).wait_for()
    assert ana.locator("li.message.own").nth(1).inner_text().startswith(HOSTILE)
    assert ana.locator("li.message img").count() == 0 and ana.dialogs == []

    ben.goto(live_server.url + "/chat")
    assert ben.locator('.site-header [data-badge="chat"]').inner_text() == "2"
    ben.goto(url)
    assert ben.locator("li.message").count() == 2
    assert ben.locator("li.message").nth(1).inner_text().startswith(HOSTILE)
    assert ben.locator("li.message img").count() == 0 and ben.dialogs == []
    # The page is visible: what she sees is marked read, and the badge follows.
    ben.locator('.site-header [data-badge="chat"][hidden]').wait_for(state="attached")
    assert ben.locator("button", has_text="as read").count() == 0

    # What the live stream's script dispatches: a new message, an edit, a read receipt.
    ben_ref = ben.locator("#chat").get_attribute("data-me")
    chat_ref = ben.locator("#chat").get_attribute("data-chat")
    ana_ref = ana.locator("#chat").get_attribute("data-me")
    ben.evaluate("""([chat, author]) => document.dispatchEvent(new CustomEvent('idance:message',
        {detail: {id: 'message:live1', chat: chat, author: author, author_name: 'Ana García',
                  html: '<p>From the stream</p>', created_at: new Date().toISOString(),
                  edited: false, deleted: false}}))""", [chat_ref, ana_ref])
    ben.locator("li.message", has_text="From the stream").wait_for()
    ben.evaluate("""([chat, author]) => document.dispatchEvent(new CustomEvent('idance:message',
        {detail: {id: 'message:live1', chat: chat, author: author, author_name: 'Ana García',
                  html: '', created_at: new Date().toISOString(), edited: false,
                  deleted: true}}))""", [chat_ref, ana_ref])
    ben.locator("#m-live1", has_text="Message deleted").wait_for()
    assert ben.locator("li.message").count() == 3
    # Another chat's event changes nothing here.
    ben.evaluate("""(author) => document.dispatchEvent(new CustomEvent('idance:message',
        {detail: {id: 'message:other', chat: 'chat:[user:x, user:y]', author: author,
                  author_name: 'X', html: '<p>Elsewhere</p>', created_at: new Date().toISOString(),
                  edited: false, deleted: false}}))""", ana_ref)
    assert ben.locator("li.message", has_text="Elsewhere").count() == 0

    ana.evaluate("""([chat, member]) => document.dispatchEvent(new CustomEvent('idance:read',
        {detail: {chat: chat, member: member, read_at: new Date(Date.now() + 1000).toISOString()}}))""",
                 [chat_ref, ben_ref])
    ana.locator("li.message.own .seen", has_text="Seen").wait_for()
    for page in (ana, ben):
        page.context.close()


def test_the_form_posts_without_javascript(browser, live_app, live_server):
    db = live_app.extensions["idance.db"]
    cat = _member(browser, live_server, db, "cat", "Cat Novak", javascript=False)
    dan = _member(browser, live_server, db, "dan", "Dan Silva")
    key = match(db, "cat", "dan")
    cat.goto(f"{live_server.url}/chat/{key}")
    cat.get_by_label("Message").fill("Sent by the form")
    # A double click submits the form twice with one key: one message.
    cat.get_by_role("button", name="Send").dblclick()
    cat.wait_for_url(f"{live_server.url}/chat/{key}#latest")
    assert cat.locator("li.message.own", has_text="Sent by the form").count() == 1
    dan.goto(f"{live_server.url}/chat/{key}")
    assert dan.locator("li.message", has_text="Sent by the form").count() == 1
    for page in (cat, dan):
        page.context.close()
