"""Questions no knowledge base answers: about one customer's own records ("where is my order
DO-208451", "my points balance", "when is my next appointment") or another person's private data
("the driver's phone number"). Quoting the delivery policy to "where is my order" is a wrong
answer; the honest one is that Parley cannot see it, and a person is asked (own records) or the
request is declined (someone else's data).

A small pattern check per shipped language, on the keyword analyser's normalised text (Arabic
letter variants folded, casefolded). It looks for a request about the state of the customer's own
thing, not for "my" alone: "how long for a refund to my card" and "I missed my appointment, is
there a fee" are policy questions and go on to the knowledge base.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum

from ai_worker.answers.base import Answer, Question
from ai_worker.answers.texts import pick
from ai_worker.retrieval.analysis import normalise
from parley_contract.schemas import AnswerPath


class Private(Enum):
    #: The customer's own order, booking, balance, payment, results: staff can look it up.
    OWN_RECORD = "own_record"
    #: Someone else's contact details or data: declined, nobody is asked to share it.
    OTHERS_DATA = "others_data"


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_EN_RECORD = (
    r"(?:order|delivery|parcel|package|shipment|refund|claim|booking|appointment|aligners?|results?|x-?rays?"
    r"|invoice|bill|payment|exchange|return)"
)
_EN_STAFF = r"(?:driver|courier|delivery (?:man|guy)|technician|doctor|dr\.?|dentist|nurse|staff member|employee)"
#: Another customer, not the business's customers in general ("the number for customers to call").
_EN_OTHER = r"(?:another|other|the|that|this|a) (?:customer|client|patient|buyer)(?! service| care| support)"
_EN_CONTACT = r"(?:phone|mobile|cell|whatsapp|number|address|e-?mail)"

#: (language, kind) → one pattern. Arabic in normalised spelling (ا for أ/إ, ي for ى, ه for ة).
_PATTERNS: Mapping[tuple[str, Private], re.Pattern[str]] = {
    ("en", Private.OWN_RECORD): _any(
        r"\b(?:where|when)(?:'s|s| is| are| will| did| does)\s+(?:my|our)\b",
        rf"\bmy\s+(?:\w+\s+){{0,3}}{_EN_RECORD}\b[^?.!]{{0,40}}"
        r"\b(?:has ?n[o']?t|have ?n[o']?t|not yet|still not|never)\b",
        r"\b(?:has|have|did|is|are)\s+(?:my|our)\s+(?:\w+\s+){0,4}?(?:been\s+)?(?:approv|process|ship|dispatch|arriv|ready|left|leave|come|confirm|deliver|sent|receiv)",
        r"\bstatus of (?:my|our)\b",
        rf"\b(?:track|trace) (?:my|our)\s+(?:\w+\s+)?{_EN_RECORD}",
        r"\bmy\s+(?:\w+\s+){0,3}(?:balance|credit left)\b",
        r"\bhow many points (?:do |have )?(?:i|we) (?:have|got|left)\b",
        r"\bwhat (?:card|payment method|account) did (?:i|we)\b",
        rf"\bdid (?:the|your|my) {_EN_STAFF}\b[^?.!]{{0,20}}\b(?:leave|come|arrive|call|set off|start)",
        r"\bhow much do (?:i|we) (?:still )?owe\b",
        r"\bmy\s+(?:last |latest |previous )?(?:diagnosis|test results?|prescription|treatment plan)\b",
    ),
    ("en", Private.OTHERS_DATA): _any(
        rf"\b{_EN_CONTACT}(?: numbers?)?\s+(?:of|for)\s+(?:the |your |a |that |this )?(?:\w+\s+){{0,2}}{_EN_STAFF}\b",
        rf"\b{_EN_CONTACT}(?: numbers?)?\s+(?:of|for)\s+{_EN_OTHER}",
        rf"(?<!my )(?<!our )\b(?:personal|home|private)\s+{_EN_CONTACT}\b",
        rf"\b{_EN_STAFF}\s+\w+(?:'s|s')\s+{_EN_CONTACT}",
    ),
    ("ar", Private.OWN_RECORD): _any(
        r"(?:وين|اين|فين|متي|امتي|ايش صار)\b[^?.!]{0,30}"
        r"(?:طلبي|طلبيتي|شحنتي|طردي|موعدي|استرجاعي|استردادي|فلوسي|مبلغي|نتيجتي|تحاليلي)",
        r"(?:طلبي|طلبيتي|شحنتي|طردي|موعدي|فلوسي|مبلغي)\b[^?.!]{0,30}(?:وصل|جاهز|اتاكد|تاكد|حاله|رقم|متي)",
        # "mine" in the Gulf and Levant ("نتيجة الأشعة حقتي"), with a word asking how it stands.
        r"^(?=[\s\S]*\b(?:حقتي|تبعي|تبعتي|الخاص بي|الخاصه بي)\b)(?=[\s\S]*(?:وصل|جاهز|نتيجه|حاله|وين|اين|متي))",
        r"رصيد(?:ي|\s+نقاطي)|\bنقاطي\b",
        r"\bكم\s+(?:باقي|تبقي|متبقي|بقي)\s+علي",
        r"\bحاله\s+(?:طلبي|موعدي|مطالبتي|تاميني)",
    ),
    ("ar", Private.OTHERS_DATA): _any(
        r"\b(?:رقم|جوال|هاتف|تلفون|عنوان|ايميل)\s+(?:جوال\s+|هاتف\s+)?(?:ال)?(?:سائق|مندوب|دكتور|دكتوره|طبيب|طبيبه|موظف|موظفه|عميل|زبون|مريض)",
        r"\b(?:رقم|جوال|هاتف|عنوان)\w*\s+(?:ال)?(?:شخصي|خاص)",
    ),
    ("ru", Private.OWN_RECORD): _any(
        r"\bгде\s+(?:\w+\s+)?мо[йяеи]\w*",
        r"\bкогда\s+(?:привезут|доставят|прид[её]т|будет готов\w*|прибудет|вернут|прид[уе]т)\b"
        r"[^?.!]{0,30}\bмо[йяеи]\w*",
        r"\bготов\w*\s+ли\s+мо[йяеи]\w*",
        r"\b(?:статус|состояние)\s+(?:\w+\s+)?мо\w+",
        r"\bу меня\b[^?.!]{0,20}\b(?:баланс|балл|бонус|долг|задолж|осталось заплатить)",
        r"\bмне\s+(?:поставили|назначили|выписали|вернули|одобрили)\b",
        r"\bмо[йяеи]\w*\s+(?:\w+\s+)?(?:заказ|посылк|доставк|возврат)\w*\s+"
        r"(?:ещ[её] )?(?:не|так и не)\s+(?:приш|привез|достав|верн)",
    ),
    ("ru", Private.OTHERS_DATA): _any(
        r"\b(?:номер|телефон|адрес|почт)\w*\s+(?:\w+\s+){0,2}(?:ваш\w*\s+)?(?:водител|курьер|врач|доктор|сотрудник|клиент|покупател|пациент|менеджер)\w*",
        r"\b(?:личн\w*|домашн\w*)\s+(?:номер|телефон|адрес|почт)\w*",
    ),
}

#: Phrases that name a business desk, not a person: "the customer service number".
_DESKS = re.compile(r"customer (?:service|care|support)|خدمه العملاء|служб\w* (?:поддержки|клиент\w*)")


def private_request(text: str, *, language: str) -> Private | None:
    """What kind of private request `text` is, if it is one (checked in English too, for a mixed
    message), else None."""
    normalised = _DESKS.sub(" ", normalise(text).replace("\u2019", "'"))
    for kind in (Private.OTHERS_DATA, Private.OWN_RECORD):
        for lang in dict.fromkeys((language, "en")):
            pattern = _PATTERNS.get((lang, kind))
            if pattern is not None and pattern.search(normalised):
                return kind
    return None


OWN_RECORD_TEXT: Mapping[str, str] = {
    "en": (
        "I can't see your orders, bookings or account details from here. I've passed your question to a colleague, "
        "who will check and get back to you."
    ),
    "ar": (
        "لا يمكنني الاطلاع على طلباتك أو مواعيدك أو بيانات حسابك من هنا. "
        "لقد أحلتُ سؤالك إلى أحد زملائي، وسيتحقق منه ويتواصل معك."
    ),
    "ru": (
        "Я не вижу ваших заказов, записей и данных счёта. Я передал ваш вопрос коллеге — он проверит и свяжется с вами."
    ),
}

OTHERS_DATA_TEXT: Mapping[str, str] = {
    "en": "I'm sorry, I can't share personal details of our staff or other customers.",
    "ar": "عذرًا، لا يمكنني مشاركة البيانات الشخصية لموظفينا أو لعملاء آخرين.",
    "ru": "К сожалению, я не могу сообщать личные данные наших сотрудников или других клиентов.",
}


class PrivateResponder:
    """Answers a private request honestly (see the module docstring); None for any other question."""

    path: AnswerPath = "fallback"

    def respond(self, question: Question) -> Answer | None:
        kind = private_request(question.text, language=question.language)
        if kind is None:
            return None
        if kind is Private.OWN_RECORD:
            return Answer(text=pick(OWN_RECORD_TEXT, language=question.language), path="fallback", needs_person=True)
        return Answer(text=pick(OTHERS_DATA_TEXT, language=question.language), path="fallback")
