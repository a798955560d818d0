"""The Pearl Bay Dental Clinic questions (clinic_kb/: FAQ, price list, policy PDF, a shop catalog
whose columns are named unlike the sample's and priced in QAR), as patients write them."""

from __future__ import annotations

from typing import Any

from bench.data.answers.build import HERE, Builder, Catalog

#: A refusal of an insurer the clinic bills directly.
NOT_ACCEPTED = [
    "not accept",
    "don't accept",
    "don't take",
    "do not take",
    "لا نقبل",
    "لا نتعامل",
    "не принимаем",
    "не работаем с",
]


def build() -> list[dict[str, Any]]:
    catalog = Catalog(
        HERE / "clinic_kb" / "shop.csv",
        code="Item ID",
        name="Title",
        price="Price (QAR)",
        stock="Quantity",
        currency="QAR",
    )
    b = Builder("pb", catalog)
    _catalog(b)
    _policy(b)
    _unanswerable(b)
    return b.items


def _catalog(b: Builder) -> None:
    for code, language, question in [
        ("PB-101", "en", "how much is the sonicare electric toothbrush"),
        ("PB-102", "en", "price for sonicare replacement heads"),
        ("PB-301", "en", "waterpik flosser how much do u sell it for"),
        ("PB-201", "en", "sensodyne repair and protect price?"),
        ("PB-104", "en", "bamboo toothbrush cost"),
        ("PB-401", "en", "how much is the whitening gel refill"),
        ("PB-303", "en", "TePe interdental brushes price"),
        ("PB-101", "ar", "كم سعر فرشاة سونيكير الكهربائية Sonicare"),
        ("PB-403", "ar", "غسول الفم Chlorhexidine بكم"),
        ("PB-301", "ru", "сколько стоит ирригатор Waterpik"),
        ("PB-502", "ru", "таблетки для чистки ретейнера цена"),
        ("PB-202", "ru", "детская паста Elmex Junior сколько стоит"),
    ]:
        b.price(code, language, question)
    for code, language, question in [
        ("PB-103", "en", "do you have the frozen kids electric toothbrush in stock"),
        ("PB-203", "en", "is the pearl bay whitening toothpaste available"),
        ("PB-402", "en", "alcohol free mouthwash in stock?"),
        ("PB-101", "en", "sonicare toothbrush available to buy at reception"),
        ("PB-503", "en", "can i buy an aligner case, do u have"),
        ("PB-302", "en", "oral b floss in stock"),
        ("PB-103", "ar", "فرشاة الأطفال Oral-B Frozen متوفرة؟"),
        ("PB-501", "ar", "شمع التقويم متوفر عندكم"),
        ("PB-203", "ru", "отбеливающая паста Pearl Bay есть в наличии?"),
        ("PB-301", "ru", "Waterpik есть сейчас?"),
    ]:
        b.stock(code, language, question)
    k = "catalog_attribute"
    b.fact(k, "en", "how many heads come in the sonicare replacement pack", ["3 heads", "3"])
    b.fact(k, "en", "what size is the sensodyne tube", ["75 ml", "75ml"])
    b.fact(k, "en", "how many tablets in the retainer brite box", ["96"])
    b.fact(k, "en", "the chlorhexidine mouthwash how strong is it and how big", ["0.2"], ["300 ml", "300ml"])
    b.fact(k, "en", "floss - how many metres", ["50 m", "50m", "50 metres", "50 meters"])
    b.fact(k, "ar", "كم حجم غسول الفم الخالي من الكحول", ["500 ml", "500ml", "500 مل"])
    b.fact(k, "ru", "какой бренд у межзубных ёршиков", ["TePe"])
    b.fact(k, "ru", "для какого возраста паста Elmex Junior", ["6-12", "6–12", "6 до 12", "6 to 12"])
    k = "catalog_sku"
    b.price("PB-302", "en", "PB-302 price", kind=k)
    b.stock("PB-402", "en", "is PB-402 in stock", kind=k)
    b.price("PB-501", "en", "pb-501 how much", kind=k)
    b.price("PB-201", "ar", "كم سعر PB-201", kind=k)
    b.stock("PB-503", "ar", "PB-503 متوفر؟", kind=k)
    b.price("PB-401", "ru", "сколько стоит PB-401", kind=k)
    b.stock("PB-103", "ru", "PB-103 есть в наличии", kind=k)
    b.price("PB-104", "ru", "PB-104 цена?", kind=k)
    k = "catalog_misspelt"
    b.price("PB-101", "en", "sonicar protective clean brush how much", kind=k)
    b.price("PB-301", "en", "water pick flosser price", kind=k)
    b.price("PB-201", "en", "sensodine toothpaste cost", kind=k)
    b.stock("PB-402", "en", "alchohol free mouth wash availble", kind=k)
    b.price("PB-403", "en", "chlorhexadine mouthwash price", kind=k)
    b.price("PB-502", "ar", "اقراص تنظيف الريتينر Retaner brite كم", kind=k)
    b.price("PB-303", "ru", "ершики тепе Tepe interdental цена", kind=k)
    b.stock("PB-103", "ru", "детская щётка орал би фроузен Oral B frozen есть?", kind=k)
    k = "catalog_compare"
    b.fact(k, "en", "which is cheaper the sonicare or the waterpik", ["Sonicare"], ["320"])
    b.fact(k, "en", "sensodyne vs pearl bay whitening toothpaste which costs less", ["Sensodyne"], ["32"])
    b.fact(k, "ar", "أيهما أرخص غسول Listerine أو Corsodyl", ["Listerine"], ["35"])
    b.fact(k, "ru", "что дешевле: зубная нить Oral-B или бамбуковая щётка", ["Bamboo", "бамбук"], ["15"])
    b.fact(k, "ru", "какая паста дешевле Elmex или Sensodyne", ["Elmex"], ["25"])
    k = "catalog_filter"
    b.fact(k, "en", "anything for braces under 50 riyals", ["Orthodontic Wax", "wax"], ["TePe"])
    b.fact(k, "en", "toothbrushes under 100 qar", ["Bamboo"], ["Replacement"])
    b.fact(k, "en", "what do you have for kids", ["Elmex", "Oral-B Kids"])
    b.fact(k, "ar", "عندكم معجون أسنان أقل من 30 ريال", ["Elmex"])
    b.fact(k, "ru", "что есть для элайнеров", ["Retainer Brite", "Retainer Cleaning"])


def _policy(b: Builder) -> None:
    p = "policy"
    en = [
        ("how much is a check up for a new patient", [["200"]]),
        ("cleaning price scale and polish", [["350"]]),
        ("how much for a root canal on a molar", [["2,900"]]),
        ("root canal front tooth cost", [["1,800"]]),
        ("wisdom tooth removal price", [["1,600"]]),
        ("how much is teeth whitening in the clinic", [["1,900"]]),
        ("implant price incl crown", [["7,500"]]),
        ("invisalign cost", [["14,500"]]),
        ("price of a zirconia crown", [["2,600"]]),
        ("are you open on friday", [["closed", "not open"]]),
        ("opening hours saturday", [["9:00", "9 am", "9am"], ["5:00", "5 pm", "5pm"]]),
        ("do you take bupa insurance", [["Bupa"]]),
        ("i missed my appointment, is there a fee", [["150"]]),
        ("how late can i cancel without paying", [["24 hours"]]),
        ("whats the fee if i miss an implant appointment", [["500"]]),
        ("can i pay in instalments for a 4000 riyal plan", [["3 or 6", "3 and 6", "3-6"]]),
        ("how long is the guarantee on a crown", [["5 years"]]),
        ("implant guarantee?", [["10 years"]]),
        ("filling guarantee", [["2 years"]]),
        ("refund on deposit if i change my mind after 3 days", [["7 days"]]),
        ("can i return an opened toothbrush", [["hygiene", "cannot be returned", "can't be returned"]]),
        ("emergency dentist number after hours", [["+974 5512 9900", "97455129900", "5512 9900"]]),
        ("emergency consultation price", [["250"]]),
        ("where is the clinic", [["Al Mirqab"], ["West Bay"]]),
        ("is parking free", [["free"], ["2 hours"]]),
        ("how long does invisalign take", [["6 to 18 months", "6-18 months", "6–18 months"]]),
        ("iv sedation price and do i need to fast", [["1,500"], ["6 hours"]]),
        ("how much is the pearl smile plan", [["1,200"]]),
        ("how long do you keep my records", [["10 years"]]),
        ("deposit for a treatment plan of 8000 qar", [["30%"]]),
    ]
    for question, facts in en:
        b.fact(p, "en", question, *facts, not_=NOT_ACCEPTED if "insurance" in question else ())
    ar = [
        ("كم سعر تنظيف الأسنان", [["350"]]),
        ("هل تقبلون تأمين QLM", [["QLM"]]),
        ("متى تفتحون يوم السبت", [["9:00", "9 am", "9 صباح"]]),
        ("كم سعر زراعة السن مع التاج", [["7,500"]]),
        ("كم رسوم إلغاء الموعد المتأخر", [["150"]]),
        ("هل تعالجون الأطفال؟ من أي عمر", [["1"]]),
        ("رقم الواتساب للحجز", [["+974 5512 3478", "97455123478", "5512 3478"]]),
        ("كم مدة ضمان التركيبات crowns", [["5"]]),
    ]
    for question, facts in ar:
        b.fact(p, "ar", question, *facts, not_=NOT_ACCEPTED if "تأمين" in question else ())
    ru = [
        ("сколько стоит отбеливание зубов в клинике", [["1,900"]]),
        ("вы работаете в пятницу?", [["closed", "закрыт", "выходной", "не работаем"]]),
        ("сколько стоит удаление зуба мудрости", [["1,600"]]),
        ("какая гарантия на импланты", [["10"]]),
        ("штраф за пропуск приёма", [["150"]]),
        ("принимаете страховку Cigna?", [["Cigna"]]),
        ("врачи говорят по-русски?", [["Russian", "русск"]]),
        ("сколько стоят брекеты металлические", [["9,000"]]),
    ]
    for question, facts in ru:
        b.fact(p, "ru", question, *facts, not_=NOT_ACCEPTED if "страховк" in question else ())


def _unanswerable(b: Builder) -> None:
    k = "unanswerable_unknown_product"
    b.unanswerable(k, "en", "how much is the colgate optic white toothpaste", ["yes, we have"])
    b.unanswerable(k, "en", "do you sell hearing aids", ["yes, we sell"])
    b.unanswerable(k, "ar", "كم سعر فرشاة Oral-B iO", ["نعم، لدينا"])
    b.unanswerable(k, "ru", "сколько стоит зубная паста Splat", ["да, у нас есть"])
    k = "unanswerable_order_status"
    b.unanswerable(k, "en", "did my insurance approve my root canal claim", ["approved", "has been accepted"])
    b.unanswerable(k, "en", "whats the status of my invisalign aligners, are they ready", ["are ready", "have arrived"])
    b.unanswerable(k, "ar", "هل وصلت نتيجة الأشعة حقتي", ["نعم، وصلت"])
    b.unanswerable(k, "ru", "готовы ли мои элайнеры?", ["готовы", "уже пришли"])
    k = "unanswerable_offtopic"
    b.unanswerable(k, "en", "can you book me a table at a restaurant in the pearl", ["booked"])
    b.unanswerable(k, "en", "how do i renew my qatar id", ["you can renew"])
    b.unanswerable(k, "ar", "كم سعر صرف الدولار اليوم", ["ريال للدولار"])
    b.unanswerable(k, "ru", "посоветуйте хороший отель в Дохе", ["рекомендую"])
    k = "unanswerable_personal"
    b.unanswerable(k, "en", "when is my next appointment", ["your next appointment is"])
    b.unanswerable(k, "en", "what's dr. sara's personal mobile", [])
    b.unanswerable(k, "ar", "كم باقي علي من الفاتورة", ["المبلغ المتبقي"])
    b.unanswerable(k, "ru", "какой диагноз мне поставили в прошлый раз", ["ваш диагноз"])
