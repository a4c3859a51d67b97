"""Chinese first: a browser asking for English still gets Chinese until the switch is used."""


def test_a_browser_asking_for_english_gets_chinese(client, organisation):
    client.force_login(organisation.rep)

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.headers["Content-Language"] == "zh-hans"


def test_the_switch_chooses_english(client, organisation):
    client.force_login(organisation.rep)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert response.headers["Content-Language"] == "en"


def test_a_company_may_honour_the_browser_language(client, organisation, settings):
    settings.KEHU = {**settings.KEHU, "HONOUR_BROWSER_LANGUAGE": True}
    client.force_login(organisation.rep)

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.headers["Content-Language"] == "en"
