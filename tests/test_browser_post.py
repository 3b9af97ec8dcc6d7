"""The border post in a real browser (Playwright driving Debian's headless Chromium) against the real service,
screening index and database: the immigration officer at Poipet logs a child with an unrelated adult who is in the
register (registered in Khmer script, typed in Latin letters at the post) and sees the hold instruction; the same
pages in Khmer with the Khmer font loaded; the whole form by keyboard alone; the layout at tablet width; no console
errors (a CSP violation is one)."""

from __future__ import annotations

from tests.conftest import login, new_officer, screenshot, web_login
from tests.test_border_support import family_body, in_days, random_birth, register, submit, td3, years_ago

HOLD = "HOLD the child and the adults for secondary inspection and call the liaison desk."


def console_errors(page) -> list[str]:
    """Console errors (a CSP violation is one) and uncaught exceptions. Chromium's own /favicon.ico request
    (the layout names no icon) is not a page error."""
    problems: list[str] = []

    def seen(msg) -> None:
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            problems.append(msg.text)
    page.on("console", seen)
    page.on("pageerror", lambda err: problems.append(str(err)))
    return problems


async def focused(page) -> str:
    """The focused element as name (or name=value for a button)."""
    return await page.evaluate("""() => { const e = document.activeElement;
        if (!e) return ''; return e.tagName === 'BUTTON' ? e.name + '=' + e.value : (e.name || ''); }""")


async def tab_to(page, target: str, limit: int = 60) -> None:
    """Press Tab until ``target`` has the focus (the tab order must reach it, forwards)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await focused(page) == target:
            return
    raise AssertionError(f"Tab never reached {target}")


async def submit_by_enter(page) -> None:
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def choose(page, value: str, limit: int = 15) -> None:
    """Pick an option of the focused select with the arrow keys."""
    for _ in range(limit):
        if await page.evaluate("document.activeElement.value") == value:
            return
        await page.keyboard.press("ArrowDown")
    raise AssertionError(f"the select never showed {value}")


async def test_poipet_officer_logs_a_child_with_a_registered_adult_and_sees_hold_then_in_khmer(
        web_page, client, db_target, officers):
    page = web_page
    problems = console_errors(page)
    birth = random_birth()
    await register(client, officers["registrar"], {"names": [{"full": "គឹម ចក្រា", "script": "Khmr"}],
                                                   "sex": "male", "birth_date": birth, "nationalities": ["KH"]})
    bavet = await login(client, await new_officer(db_target, "immigration", "BAVET"))
    other_post = await submit(client, bavet, family_body())
    officer = await new_officer(db_target, "immigration", "POIPET")
    await web_login(page, officer)
    assert page.url.endswith("/post")  # the immigration officer's start page
    await page.get_by_label("Direction").select_option("exit")
    await page.get_by_label("How the child travels").select_option("other_adults")
    await page.get_by_label("Age the child or the adult says").fill("9")
    child_birth = years_ago(9, 30)
    await page.locator("#f-child-mrz").fill(td3("CHAN", "SREYNEANG", "N7654321", child_birth, in_days(700)))
    await page.get_by_role("button", name="Read MRZ").first.click()
    await page.wait_for_load_state()
    assert await page.locator("#f-child-family").input_value() == "CHAN"
    assert await page.locator("#f-child-doc_number").input_value() == "N7654321"
    await page.locator("#f-child-khmer").fill("ចាន់ ស្រីនាង")
    await page.locator("#f-c0-family").fill("Kim")
    await page.locator("#f-c0-given").fill("Chakra")
    await page.locator("#f-c0-sex").select_option("male")
    await page.locator("#f-c0-birth_date").fill(birth)
    await page.locator("#f-c0-relationship").select_option("unrelated")
    await page.locator("#f-c0-evidence").select_option("none")
    await page.get_by_label("Consent letter shown").select_option("no")
    await page.locator("#f-dest_country").fill("TH")
    await page.locator("#f-dest_place").fill("Bangkok")
    await screenshot(page, "post-form")
    await page.get_by_role("button", name="Check now").last.click()
    await page.wait_for_load_state()
    assert "/post/checks/" in page.url
    instruction = await page.locator("#instruction").inner_text()
    assert HOLD in instruction and "REFER the child" in instruction
    found = await page.locator("ul.flags").inner_text()
    assert "Possible match in the records for an adult" in found and "not a parent or relative" in found
    content = await page.content()
    assert "child_trafficking" not in content and "Phnom Penh Municipal Court" not in content
    await screenshot(page, "post-result")
    check_id = page.url.rsplit("/", 1)[1].split("?")[0]
    await page.locator("#f-outcome").select_option("secondary_inspection")
    await page.get_by_role("button", name="Record outcome").click()
    await page.wait_for_load_state()
    assert "The outcome is recorded." in await page.locator("main").inner_text()
    # the post's recent checks: ours, held; never another post's
    await page.get_by_role("link", name="Recent checks", exact=True).click()
    await page.wait_for_load_state()
    row = page.locator(f'tr[data-check="{check_id}"]')
    assert "Hold, call liaison" in await row.inner_text()
    assert await page.locator(f'tr[data-check="{other_post["id"]}"]').count() == 0
    await screenshot(page, "post-recent")
    # Khmer: switch, the labels and the instruction are Khmer, the Khmer font is loaded
    await page.get_by_role("link", name="ភាសាខ្មែរ").click()
    await page.wait_for_load_state()
    assert await page.locator("html").get_attribute("lang") == "km"
    assert "ការត្រួតពិនិត្យថ្មីៗនៅប៉ុស្តិ៍នេះ" in await page.locator("h1").inner_text()
    assert "ឃាត់ទុក" in await page.locator(f'tr[data-check="{check_id}"]').inner_text()
    await page.locator(f'a[href="/post/checks/{check_id}"]').click()
    await page.wait_for_load_state()
    assert "ឃាត់កុមារ និងមនុស្សពេញវ័យទុក" in await page.locator("#instruction").inner_text()
    await page.evaluate("document.fonts.ready")
    assert await page.evaluate("document.fonts.check('16px \"Noto Sans Khmer\"', 'ក')")
    await screenshot(page, "post-result-km")
    await page.goto("/post")
    assert await page.get_by_label("ទិសដៅ").count() == 1
    assert await page.get_by_role("button", name="ត្រួតពិនិត្យឥឡូវនេះ").count() == 1
    await screenshot(page, "post-form-km")
    assert problems == []


async def test_the_check_form_by_keyboard_alone(web_page, db_target):
    page = web_page
    problems = console_errors(page)
    officer = await new_officer(db_target, "immigration", "POIPET")
    await web_login(page, officer)
    assert await focused(page) == "direction"  # the form opens with the focus on its first field
    await choose(page, "exit")
    await tab_to(page, "situation")
    await choose(page, "one_parent")
    await tab_to(page, "stated_age")
    await page.keyboard.type("9")
    await tab_to(page, "child.mrz")
    birth = years_ago(9, 100)
    await page.keyboard.type(td3("SOK", "BOPHA", "N1112223", birth, in_days(500)))
    await tab_to(page, "action=mrz:child")
    await submit_by_enter(page)
    assert await page.locator("#f-child-family").input_value() == "SOK"
    assert await focused(page) == "child.khmer"  # after Read MRZ, the first field the MRZ does not fill
    await tab_to(page, "c0.family")
    await page.keyboard.type("Sok")
    await tab_to(page, "c0.given")
    await page.keyboard.type("Vannak")
    await tab_to(page, "c0.birth_date")
    await page.keyboard.type(years_ago(40))
    await tab_to(page, "c0.relationship")
    await choose(page, "parent")
    await tab_to(page, "c0.evidence")
    await choose(page, "family_book")
    await tab_to(page, "action=add")  # Add companion: a second block, focus on its MRZ
    await submit_by_enter(page)
    assert await focused(page) == "c1.mrz"
    assert await page.locator("#f-c0-family").input_value() == "Sok"
    await tab_to(page, "consent")
    await choose(page, "yes")
    await tab_to(page, "consent_signed_by")
    await choose(page, "father")
    await tab_to(page, "dest_country")
    await page.keyboard.type("TH")
    await tab_to(page, "dest_place")
    await page.keyboard.type("Aranyaprathet")
    await submit_by_enter(page)  # Enter checks the traveller (not "Read MRZ")
    assert "/post/checks/" in page.url
    assert "CLEAR" in await page.locator("#instruction").inner_text()
    await tab_to(page, "outcome")
    await choose(page, "cleared")
    await tab_to(page, "=")  # the "Record outcome" button (no name)
    await submit_by_enter(page)
    assert "The outcome is recorded." in await page.locator("main").inner_text()
    assert problems == []


async def test_the_form_fits_a_ten_inch_tablet(web_page, db_target):
    page = web_page
    await page.set_viewport_size({"width": 800, "height": 1280})
    await web_login(page, await new_officer(db_target, "immigration", "POIPET"))
    assert page.url.endswith("/post")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 800
    assert await page.locator("#f-child-mrz").is_visible()
