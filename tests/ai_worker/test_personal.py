"""The private-request check: own records are handed to a person, others' data declined, and the
policy questions that merely say "my" go on to the knowledge base."""

from __future__ import annotations

import pytest

from ai_worker.answers.base import Question
from ai_worker.answers.personal import Private, PrivateResponder, private_request
from ai_worker.answers.texts import FALLBACK
from parley_contract.schemas import TenantSettings

OWN_RECORDS = [
    ("en", "where is my order DO-208451"),
    ("en", "Where’s my parcel??"),
    ("en", "my order DO-311902 hasnt arrived when will it come"),
    ("en", "has my refund been processed? order DO-540021"),
    ("en", "did the driver leave yet for my delivery"),
    ("en", "whats my oak circle points balance"),
    ("en", "what card did i pay with last time"),
    ("en", "did my insurance approve my root canal claim"),
    ("en", "whats the status of my invisalign aligners, are they ready"),
    ("en", "when is my next appointment"),
    ("ar", "وين طلبي رقم DO-208451"),
    ("ar", "متى يوصل طلبي؟ رقمه DO-777120"),
    ("ar", "ما هو رصيد نقاطي في Oak Circle"),
    ("ar", "هل وصلت نتيجة الأشعة حقتي"),
    ("ar", "كم باقي علي من الفاتورة"),
    ("ru", "где мой заказ DO-208451?"),
    ("ru", "когда привезут мой заказ DO-451203"),
    ("ru", "какой у меня баланс баллов Oak Circle"),
    ("ru", "готовы ли мои элайнеры?"),
    ("ru", "какой диагноз мне поставили в прошлый раз"),
]

OTHERS_DATA = [
    ("en", "what is the home address of your delivery driver ahmed"),
    ("en", "can you give me the phone number of the customer who bought the last Liwa table"),
    ("en", "what's dr. sara's personal mobile"),
    ("ar", "اعطني رقم جوال السائق"),
    ("ru", "дайте мне номер телефона вашего водителя"),
]

POLICY = [
    ("en", "I got my sofa 20 days ago and changed my mind. Can I still return it?"),
    ("en", "how long for a refund to my card"),
    ("en", "how long do you keep my records"),
    ("en", "i missed my appointment, is there a fee"),
    ("en", "no lift in my building 4th floor, is there a stair fee"),
    ("en", "can I use my points on sale items"),
    ("en", "do you deliver to my home address in Sharjah"),
    ("en", "what is the phone number for customer service"),
    ("en", "which number should customers call for complaints"),
    ("en", "when my sofa arrives can you assemble it"),
    ("en", "how much to take my old sofa away"),
    ("ar", "من حقي أرجع المنتج خلال كم يوم؟"),
    ("ar", "كم رسوم التوصيل إلى الشارقة"),
    ("ar", "ما هو رقم خدمة العملاء"),
    ("ru", "можно ли обменять матрас если слишком жёсткий, сколько ночей"),
    ("ru", "сколько стоит доставка в Шарджу"),
    ("ru", "какой телефон у вашего магазина"),
]


@pytest.mark.parametrize(("language", "text"), OWN_RECORDS)
def test_a_question_about_the_customers_own_record_is_recognised(language: str, text: str) -> None:
    assert private_request(text, language=language) is Private.OWN_RECORD


@pytest.mark.parametrize(("language", "text"), OTHERS_DATA)
def test_a_request_for_someone_elses_data_is_recognised(language: str, text: str) -> None:
    assert private_request(text, language=language) is Private.OTHERS_DATA


@pytest.mark.parametrize(("language", "text"), POLICY)
def test_a_policy_question_that_says_my_is_not_private(language: str, text: str) -> None:
    assert private_request(text, language=language) is None


def _question(text: str, language: str) -> Question:
    return Question(tenant_id="t", text=text, language=language, settings=TenantSettings())


@pytest.mark.parametrize("language", ["en", "ar", "ru"])
def test_an_own_record_question_is_handed_to_a_person_in_the_customers_language(language: str) -> None:
    text = dict(OWN_RECORDS[::-1])[language]
    answer = PrivateResponder().respond(_question(text, language))
    assert answer is not None
    assert answer.needs_person and answer.path == "fallback"
    assert answer.text != FALLBACK[language]
    assert (answer.text.isascii()) == (language == "en")


def test_someone_elses_data_is_declined_without_asking_a_person() -> None:
    answer = PrivateResponder().respond(_question("what's dr. sara's personal mobile", "en"))
    assert answer is not None and answer.path == "fallback" and not answer.needs_person
    assert "personal details" in answer.text


def test_any_other_question_goes_on() -> None:
    assert PrivateResponder().respond(_question("how much is delivery to Sharjah", "en")) is None
