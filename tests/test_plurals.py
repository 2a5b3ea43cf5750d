"""Counts shown to people take the plural form their language needs."""

from __future__ import annotations

from bot.i18n import create_i18n
from bot.sandbox.runtime import Sandbox
from handlers.survey.views import published_view
from services.survey.report import not_enough


async def test_wave_open_tells_one_subscriber_in_the_singular(sandbox: Sandbox) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id))
    subscriber = sandbox.user("Subscriber", language_code="en")
    await subscriber.send("/notify")
    await subscriber.click(1)
    await admin.send("/wave open autumn")
    assert "Telling 1 subscriber about it." in admin.last_text


def test_belarusian_and_russian_counts_take_three_forms() -> None:
    i18n = create_i18n("en")
    expected = {
        "be": {1: "адкажа хаця б 1 чалавек", 3: "хаця б 3 чалавекі", 5: "хаця б 5 чалавек"},
        "ru": {1: "ответит хотя бы 1 человек", 3: "хотя бы 3 человека", 5: "хотя бы 5 человек"},
    }
    with i18n.context():
        for locale, forms in expected.items():
            with i18n.use_locale(locale):
                for k, text in forms.items():
                    assert text in not_enough(k), (locale, k)


def test_the_consent_names_the_minimum_group_in_the_right_form() -> None:
    i18n = create_i18n("en")
    with i18n.context():
        with i18n.use_locale("ru"):
            assert "меньше 21 человека скрыта" in published_view(21)
            assert "меньше 10 человек скрыта" in published_view(10)
        with i18n.use_locale("be"):
            assert "меншая за 21 чалавека" in published_view(21)
