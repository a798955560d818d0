"""The Dune & Oak Home questions (sample_kb/), as customers write them."""

from __future__ import annotations

from typing import Any

from bench.common import SAMPLE_KB
from bench.data.answers.build import CURRENCY, Builder, Catalog

AED = CURRENCY["AED"]


def build() -> list[dict[str, Any]]:
    catalog = Catalog(
        SAMPLE_KB / "catalog.csv", code="sku", name="name", price="price_aed", stock="in_stock", currency="AED"
    )
    b = Builder("do", catalog)
    _prices(b)
    _stock(b)
    _attributes(b)
    _skus(b)
    _misspelt(b)
    _compare_and_filter(b)
    _policy_en(b)
    _policy_ar_ru(b)
    _unanswerable(b)
    return b.items


def _prices(b: Builder) -> None:
    en = [
        ("DO-SOF-1042", "how much is the marsa linen sofa"),
        ("DO-SOF-1057", "Hi! whats the price of the Qasr velvet chesterfield"),
        ("DO-SOF-1063", "rimal corner sofa price pls"),
        ("DO-SOF-1071", "how much for the creekside leather 2 seater"),
        ("DO-ARM-2011", "ghaf rattan accent chair cost?"),
        ("DO-ARM-2026", "price of saffron wingback armchair"),
        ("DO-DTB-3112", "Hello, how much does the calacatta round marble table cost"),
        ("DO-DTB-3149", "mirdif compact dining table how much"),
        ("DO-DCH-3201", "how much is one liwa oak dining chair"),
        ("DO-BED-4101", "hatta king bed price"),
        ("DO-BED-4142", "what does the bastakiya four poster bed cost"),
        ("DO-MAT-4501", "how much is the classic pocket spring mattress"),
        ("DO-WRD-5140", "barjeel armoire price"),
        ("DO-DSK-6119", "how much is ur standing desk the al quoz one"),
        ("DO-OCH-6201", "Ergo pro mesh chair price?"),
        ("DO-RUG-7103", "how much is the beni ourain rug"),
        ("DO-LMP-3301", "the dhow brass arc floor lamp, how much"),
        ("DO-OUT-8101", "saadiyat teak outdoor dining set what's the price"),
        ("DO-KID-9102", "Little dune bunk bed how much is it"),
        ("DO-DTB-3105", "What is the price of the Liwa oak dining table?"),
        ("DO-OUT-8116", "palm rope lounge set price and is that for all 4 pieces"),
        ("DO-LMP-3322", "how much r the oasis ceramic table lamps"),
    ]
    for code, question in en:
        b.price(code, "en", question)
    ar = [
        ("DO-SOF-1042", "كم سعر كنبة مرسى الكتان Marsa Linen؟"),
        ("DO-DTB-3105", "بكم طاولة الطعام ليوا Liwa من خشب البلوط"),
        ("DO-BED-4116", "ابغى اعرف سعر سرير Nakheel الساج"),
        ("DO-RUG-7118", "سجادة Rimal jute كم سعرها"),
        ("DO-OCH-6216", "كم ثمن كرسي المكتب الجلد Bastakiya Executive"),
        ("DO-MAT-4517", "مرتبة Hybrid Cool بكم؟"),
        ("DO-LMP-3337", "فانوس Barjeel Mashrabiya كم سعره"),
    ]
    for code, question in ar:
        b.price(code, "ar", question)
    ru = [
        ("DO-SOF-1094", "Сколько стоит изогнутый диван Dhow на 4 места?"),
        ("DO-ARM-2059", "цена кресла Bastakiya Cane"),
        ("DO-DTB-3127", "сколько стоит раздвижной стол Falaj"),
        ("DO-WRD-5102", "Подскажите цену шкафа Creek 3-Door Oak"),
        ("DO-DSK-6104", "письменный стол Ghaf сколько"),
        ("DO-OUT-8122", "шезлонг Khor из тика почем?"),
    ]
    for code, question in ru:
        b.price(code, "ru", question)


def _stock(b: Builder) -> None:
    en = [
        ("DO-SOF-1088", "Is the Jumeirah Sofa Bed in stock?"),
        ("DO-SOF-1042", "do u have the marsa linen sofa in stock"),
        ("DO-ARM-2033", "is the oasis swivel chair available now"),
        ("DO-DTB-3134", "souk reclaimed teak table in stock? want it next week"),
        ("DO-DCH-3245", "marina bar stool available?"),
        ("DO-BED-4138", "khor rattan double bed do you have it"),
        ("DO-MAT-4538", "is the orthopaedic firm mattress in stock"),
        ("DO-WRD-5121", "souk rattan wardrobe in stock??"),
        ("DO-DSK-6133", "creek executive desk available for delivery"),
        ("DO-RUG-7139", "creek washable kilim rug in stock"),
        ("DO-OUT-8143", "hanging egg chair jebel - do you have any"),
        ("DO-KID-9123", "is the oakling cot in stock"),
    ]
    for code, question in en:
        b.stock(code, "en", question)
    ar = [
        ("DO-SOF-1088", "هل كنبة السرير Jumeirah متوفرة؟"),
        ("DO-DTB-3105", "طاولة Liwa موجودة عندكم في المخزون"),
        ("DO-LMP-3341", "لمبة Marsa الخارجية القابلة للشحن متوفرة"),
        ("DO-ARM-2048", "كرسي Najd الجلد متوفر الحين؟"),
    ]
    for code, question in ar:
        b.stock(code, "ar", question)
    ru = [
        ("DO-RUG-7145", "Круглый ковёр Liwa есть в наличии?"),
        ("DO-OCH-6237", "кресло Oasis Boucle есть сейчас"),
        ("DO-BED-4123", "кровать Barjeel с подъёмным механизмом в наличии?"),
        ("DO-KID-9144", "стеллаж для игрушек Little Dune есть?"),
    ]
    for code, question in ru:
        b.stock(code, "ru", question)


def _attributes(b: Builder) -> None:
    kind = "catalog_attribute"
    b.fact(
        kind, "en", "what are the dimensions of the marsa linen sofa", ["220x95x84", "220 x 95 x 84", "220 × 95 × 84"]
    )
    b.fact(kind, "en", "how big is the liwa oak dining table", ["200x95x76", "200 x 95 x 76", "200 × 95 × 76"])
    b.fact(kind, "en", "what colours does the qasr chesterfield come in", ["Emerald"], ["Midnight Blue"], ["Rust"])
    b.fact(kind, "en", "Which colors for the ergo pro mesh chair", ["Black"], ["Grey"])
    b.fact(kind, "en", "whats the creekside sofa made of", ["aniline leather"], ["oak"])
    b.fact(kind, "en", "what material is the calacatta table top", ["Calacatta Viola marble", "marble"])
    b.fact(kind, "en", "size of the atlas beni ourain rug?", ["200x300", "200 x 300", "200 × 300"])
    b.fact(kind, "en", "standing desk height range", ["65"], ["130"])
    b.fact(kind, "en", "hatta bed what size mattress does it take", ["180 x 200", "180x200"])
    b.fact(kind, "en", "what colours is the sidr task chair", ["Sage"], ["Grey"], ["Terracotta"])
    b.fact(kind, "en", "is the rimal corner sofa boucle and what colours", ["boucle"], ["Ivory"], ["Taupe"])
    b.fact(kind, "en", "jumeirah sofa bed - how big is the bed when pulled out", ["140 x 190", "140x190"])
    b.fact(kind, "en", "how heavy can the egg chair take", ["120 kg", "120kg"])
    b.fact(kind, "ar", "ما هي مقاسات سرير Nakheel الساج", ["176x216x105", "176 x 216 x 105", "176 × 216 × 105"])
    b.fact(kind, "ar", "شو الألوان المتوفرة لكنبة Marsa", ["Sand", "رملي"], ["Oatmeal", "شوفاني"], ["Olive", "زيتوني"])
    b.fact(kind, "ar", "من أي خشب مصنوعة طاولة Souk", ["teak", "ساج", "تيك"])
    b.fact(kind, "ru", "какие размеры у шкафа Sahara", ["240x65x225", "240 x 65 x 225", "240 × 65 × 225"])
    b.fact(kind, "ru", "из чего сделан стул Sidr Rattan", ["rattan", "ротанг"], ["mango", "манго"])
    b.fact(kind, "ru", "в каких цветах бывает кресло Saffron Wingback", ["Saffron"], ["Emerald"], ["Blush"])
    b.fact(kind, "ru", "какой размер у уличного ковра Hatta", ["200x290", "200 x 290", "200 × 290"])


def _skus(b: Builder) -> None:
    kind = "catalog_sku"
    b.price("DO-ARM-2048", "en", "price of DO-ARM-2048?", kind=kind)
    b.price("DO-SOF-1042", "en", "DO-SOF-1042 how much", kind=kind)
    b.price("DO-WRD-5117", "en", "hi can u tell me the price of do-wrd-5117", kind=kind)
    b.stock("DO-DTB-3134", "en", "is DO-DTB-3134 in stock", kind=kind)
    b.stock("DO-LMP-3316", "en", "DO-LMP-3316 available?", kind=kind)
    b.price("DO-KID-9159", "en", "do kid 9159 price", kind=kind)
    b.price("DO-OUT-8158", "en", "DO-OUT-8158 cost and is the base included", kind=kind)
    b.stock("DO-DSK-6125", "en", "DO-DSK-6125 in stock? and how much", kind=kind)
    b.price("DO-MAT-4523", "ar", "كم سعر المنتج DO-MAT-4523", kind=kind)
    b.stock("DO-ARM-2033", "ar", "DO-ARM-2033 متوفر؟", kind=kind)
    b.price("DO-RUG-7124", "ar", "ابي سعر DO-RUG-7124", kind=kind)
    b.price("DO-BED-4101", "ru", "сколько стоит DO-BED-4101", kind=kind)
    b.stock("DO-SOF-1088", "ru", "DO-SOF-1088 есть в наличии?", kind=kind)
    b.price("DO-DCH-3222", "ru", "Цена артикула DO-DCH-3222?", kind=kind)
    b.price("DO-OUT-8139", "ru", "DO-OUT-8139 почем", kind=kind)


def _misspelt(b: Builder) -> None:
    kind = "catalog_misspelt"
    b.price("DO-SOF-1057", "en", "how much is the chesterfeild sofa qsar", kind=kind)
    b.price("DO-SOF-1063", "en", "rimaal modualr corner sofa price", kind=kind)
    b.stock("DO-SOF-1088", "en", "jumeira sofabed in stok?", kind=kind)
    b.price("DO-DTB-3112", "en", "calcatta marbel table how much", kind=kind)
    b.price("DO-BED-4142", "en", "bastakia 4 poster bed price", kind=kind)
    b.price("DO-ARM-2048", "en", "najed lether recliner cost", kind=kind)
    b.price("DO-DTB-3127", "en", "falaj extendible table", kind=kind)
    b.stock("DO-RUG-7103", "en", "beni ourian rug availble?", kind=kind)
    b.price("DO-LMP-3358", "en", "quasr alabster sconce price", kind=kind)
    b.price("DO-OUT-8101", "en", "saadiat teak dinning set how much", kind=kind)
    b.price("DO-DSK-6119", "ar", "بكم مكتب الوقوف ال كوز Al Koz standing", kind=kind)
    b.price("DO-SOF-1071", "ar", "كنبة كريك سايد Creek side جلد كم", kind=kind)
    b.price("DO-KID-9117", "ru", "сколько стоит кровать-домик Sand castle", kind=kind)
    b.stock("DO-OCH-6237", "ru", "оазис букле стул есть?", kind=kind)
    b.price("DO-WRD-5136", "ru", "угловой шкаф джумейра Jumeira corner цена", kind=kind)


def _compare_and_filter(b: Builder) -> None:
    kind = "catalog_compare"
    b.fact(kind, "en", "which is cheaper the marsa linen sofa or the jumeirah sofa bed", ["Jumeirah"], ["3,950"])
    b.fact(kind, "en", "liwa oak table vs falaj extendable which costs less", ["Falaj"], ["3,850"])
    b.fact(kind, "en", "difference in price between hatta king bed and barjeel storage bed", ["4,950"], ["6,400"])
    b.fact(
        kind, "en", "what's bigger the rimal jute rug or the saffron vintage rug", ["Saffron"], ["170x240", "170 x 240"]
    )
    b.fact(kind, "en", "ergo pro or sidr task chair, which one is cheaper and by how much", ["Sidr"], ["640"])
    b.fact(kind, "ar", "أيهما أرخص: سرير Hatta أو سرير Khor", ["Khor"], ["3,750"])
    b.fact(kind, "ar", "الفرق في السعر بين طاولة Liwa وطاولة Calacatta", ["5,400"], ["6,900"])
    b.fact(kind, "ru", "что дешевле: диван Qasr или диван Dhow?", ["Qasr"], ["7,200"])
    b.fact(kind, "ru", "какой матрас дороже Classic или Hybrid Cool", ["Hybrid"], ["3,650"])
    b.fact(kind, "ru", "ковёр Creek Kilim или Hatta outdoor - какой дешевле", ["Creek"], ["690"])
    kind = "catalog_filter"
    b.fact(kind, "en", "do you have dining tables under 4000", ["Falaj"], ["Mirdif"])
    b.fact(kind, "en", "any rugs under 800 aed", ["Creek"], ["Hatta"])
    b.fact(kind, "en", "lamps under 400?", ["Marsa"], ["Oasis"])
    b.fact(kind, "en", "show me wardrobes in teak", ["Barjeel"])
    b.fact(kind, "en", "kids stuff under 500 dirhams", ["Teepee"])
    b.fact(kind, "en", "sofas in stock under 5000", ["Marsa"], not_=["Jumeirah Sofa Bed is in stock"])
    b.fact(kind, "ar", "عندكم طاولات طعام بأقل من 2000 درهم", ["Mirdif"])
    b.fact(kind, "ar", "كراسي مكتب أقل من 700", ["Sidr"])
    b.fact(kind, "ru", "есть ли письменные столы дешевле 1000 дирхам", ["Marsa"])
    b.fact(kind, "ru", "покажите уличную мебель до 1500", ["Mina"], ["Fujairah"])


def _policy_en(b: Builder) -> None:
    p = "policy"
    b.fact(
        p,
        "en",
        "I got my sofa 20 days ago and changed my mind. Can I still return it?",
        ["14 days", "14-day"],
        not_=["yes, you can return"],
    )
    b.fact(p, "en", "Can I pay cash on delivery for a 3000 dirham order?", ["2,500"], not_=["yes, you can pay cash"])
    b.fact(p, "en", "How long is the warranty on a sofa frame?", ["5 years", "five years", "5-year"], not_=["10 years"])
    b.fact(p, "en", "what time does the showroom open on friday", ["2:00", "2 pm", "2pm", "14:00"])
    b.fact(p, "en", "where r u located", ["Al Quoz"])
    b.fact(p, "en", "how much is delivery to abu dhabi and how long", ["150"], ["2–4", "2-4", "2 to 4"])
    b.fact(p, "en", "delivery fee dubai? and when is it free", ["75"], ["1,500"])
    b.fact(p, "en", "do you deliver to saudi", ["quotation", "quote"])
    b.fact(p, "en", "can i pay with tabby in the showroom", ["Tabby"], ["QR", "till", "in the showroom"])
    b.fact(p, "en", "whats your whatsapp number", ["+971 50 555 0142", "971505550142", "050 555 0142"])
    b.fact(p, "en", "email address for orders", ["hello@duneandoak.ae"])
    b.fact(
        p,
        "en",
        "do you accept cheques",
        ["not accept cheques", "don't accept cheques", "no cheques"],
        not_=["yes, we accept"],
    )
    b.fact(p, "en", "custom sofa how long does it take", ["6 to 8 weeks", "6-8 weeks", "6–8 weeks"])
    b.fact(p, "en", "do you charge for the designer home visit", ["250"])
    b.fact(p, "en", "fabric swatches online cost?", ["25"])
    b.fact(p, "en", "how long are gift cards valid", ["24 months", "2 years"])
    b.fact(p, "en", "do you assemble the furniture? is it free", ["free"])
    b.fact(p, "en", "how much is assembly for a small desk", ["75"])
    b.fact(p, "en", "price match - if i find it cheaper somewhere else within how many days", ["7 days"])
    b.fact(p, "en", "corporate order 30k, whats the discount", ["15%"])
    b.fact(p, "en", "how many points do i earn per aed spent in oak circle", ["1 Oak point", "1 point"], ["10"])
    b.fact(p, "en", "military discount?", ["10%"], ["Esaad", "Fazaa"])
    b.fact(p, "en", "can you hold an item for me for a day or two", ["48 hours"])
    b.fact(p, "en", "how long does restock take for out of stock items", ["4 to 6 weeks", "4-6 weeks", "4–6 weeks"])
    b.fact(p, "en", "design service per room price", ["750"])
    b.fact(p, "en", "how much to take my old sofa away", ["150"])
    b.fact(
        p,
        "en",
        "can i return a mattress after i opened the plastic",
        ["hygiene", "cannot be returned", "can't be returned", "not be returned"],
        not_=["yes, you can return"],
    )
    b.fact(p, "en", "mattress too firm can i swap it. how many nights do i have", ["60"])
    b.fact(p, "en", "how long for a refund to my card", ["5–10", "5-10", "5 to 10"])
    b.fact(p, "en", "if i take store credit instead do i get extra", ["5%"])
    b.fact(p, "en", "i want to cancel after dispatch, what fee", ["10%"])
    b.fact(p, "en", "damaged item how long do i have to report", ["48 hours"])
    b.fact(p, "en", "exchange a sofa for another colour in sharjah - fee?", ["100"])
    b.fact(p, "en", "same day delivery in dubai how much extra", ["100"], ["12:00", "noon"])
    b.fact(p, "en", "friday delivery possible? extra cost", ["50"])
    b.fact(p, "en", "no lift in my building 4th floor, is there a stair fee", ["50"])
    b.fact(p, "en", "reschedule delivery fee if less than 24h", ["75"])
    b.fact(p, "en", "warranty on mattresses?", ["10 years", "10-year"])
    b.fact(p, "en", "standing desk motor warranty", ["2 years"])
    b.fact(
        p,
        "en",
        "does warranty cover pet damage",
        ["pet damage", "not cover", "doesn't cover", "does not cover"],
        not_=["yes, the warranty covers pet"],
    )
    b.fact(p, "en", "technician visit for warranty in al ain do i pay", ["150"])
    b.fact(p, "en", "how often should I reseal a marble table", ["12 months", "every year", "once a year"])
    b.fact(p, "en", "how long until untreated teak goes grey", ["6 to 12 months", "6-12 months"])
    b.fact(p, "en", "how much is the care kit", ["120"])
    b.fact(p, "en", "storage fee if i miss delivery", ["14 days"], ["10"])


def _policy_ar_ru(b: Builder) -> None:
    p = "policy"
    b.fact(p, "ar", "كم تكلفة التوصيل إلى الشارقة؟", ["95"], not_=["10500", "10,500"])
    b.fact(p, "ar", "كم مدة الإرجاع عندكم", ["14"])
    b.fact(p, "ar", "هل تقبلون الدفع عند الاستلام لطلب 3000 درهم", ["2,500"], not_=["نعم، يمكنك الدفع"])
    b.fact(p, "ar", "متى يفتح المعرض يوم الجمعة", ["2:00", "2 pm", "14:00", "الثانية"])
    b.fact(p, "ar", "رقم الواتساب لو سمحت", ["+971 50 555 0142", "971505550142", "050 555 0142"])
    b.fact(p, "ar", "كم الضمان على هيكل الكنب", ["5"], not_=["10 سنوات"])
    b.fact(p, "ar", "توصلون أبوظبي؟ وكم الرسوم", ["150"])
    b.fact(p, "ar", "هل يوجد تقسيط تابي", ["Tabby", "تابي"], ["4"])
    b.fact(p, "ar", "كم رسوم التوصيل لرأس الخيمة", ["175"])
    b.fact(p, "ar", "خصم للعسكريين؟", ["10%", "10 ٪", "١٠٪"])
    b.fact(p, "ar", "التوصيل مجاني في دبي فوق كم", ["1,500"])
    b.fact(p, "ar", "كم يستغرق تصنيع كنبة حسب الطلب", ["6"], ["8"])
    b.fact(p, "ar", "ساعات العمل في رمضان", ["11:00", "11 am", "11 صباحا"])
    b.fact(p, "ar", "كم رسوم الإلغاء بعد الشحن", ["10%", "١٠٪", "10 ٪"])
    b.fact(p, "ru", "Сколько стоит доставка в Шарджу?", ["95"], not_=["10500", "10,500"])
    b.fact(p, "ru", "можно вернуть диван через 20 дней если передумал", ["14"], not_=["да, можно вернуть"])
    b.fact(p, "ru", "оплата наличными при доставке на 3000 дирхам возможна?", ["2,500"], not_=["да, можно оплатить"])
    b.fact(p, "ru", "какая гарантия на матрас", ["10"])
    b.fact(p, "ru", "во сколько открывается шоурум в пятницу", ["2:00", "14:00", "2 pm"])
    b.fact(p, "ru", "доставка в Абу-Даби сколько стоит и сколько дней", ["150"], ["2–4", "2-4", "2 to 4", "2 до 4"])
    b.fact(p, "ru", "есть ли рассрочка табби", ["Tabby", "Табби"], ["4"])
    b.fact(p, "ru", "почта для заказов какая", ["hello@duneandoak.ae"])
    b.fact(p, "ru", "сколько стоит сборка маленького стола", ["75"])
    b.fact(p, "ru", "сколько дней идёт возврат денег на карту", ["5–10", "5-10", "5 to 10", "5 до 10"])
    b.fact(p, "ru", "доставляете в Саудовскую Аравию?", ["quotation", "quote", "запрос", "расчёт", "расчет"])
    b.fact(p, "ru", "за сколько часов можно бесплатно перенести доставку", ["24"])
    b.fact(p, "ru", "сколько стоит вывоз старого дивана", ["150"])
    b.fact(p, "ru", "можно ли обменять матрас если слишком жёсткий, сколько ночей", ["60"])


def _unanswerable(b: Builder) -> None:
    no_yes = ["yes, we sell", "yes, we have", "yes we do"]
    k = "unanswerable_unknown_product"
    b.unanswerable(k, "en", "What is the price of the Oslo oak dining table?", ["euro", "€"])
    b.unanswerable(k, "en", "how much is the Milano leather recliner", no_yes)
    b.unanswerable(k, "en", "do you have the Stockholm bunk bed in stock", ["is in stock", "yes, it is"])
    b.unanswerable(k, "en", "DO-SOF-9999 price?", ["euro"])
    b.unanswerable(k, "en", "price of ur glass coffee table", no_yes)
    b.unanswerable(k, "en", "do you sell pianos", no_yes)
    b.unanswerable(k, "ar", "كم سعر طاولة Oslo البلوط", ["يورو"])
    b.unanswerable(k, "ar", "عندكم تلفزيونات سامسونج؟", ["نعم، لدينا"])
    b.unanswerable(k, "ru", "сколько стоит диван Venezia", ["евро"])
    b.unanswerable(k, "ru", "у вас есть холодильники?", ["да, у нас есть"])
    k = "unanswerable_order_status"
    b.unanswerable(k, "en", "where is my order DO-208451", ["has been delivered", "is on its way", "out for delivery"])
    b.unanswerable(
        k, "en", "my order DO-311902 hasnt arrived when will it come", ["will arrive tomorrow", "arrives today"]
    )
    b.unanswerable(k, "en", "has my refund been processed? order DO-540021", ["has been processed", "was processed"])
    b.unanswerable(k, "en", "did the driver leave yet for my delivery", ["driver has left", "on his way"])
    b.unanswerable(k, "ar", "وين طلبي رقم DO-208451", ["تم التوصيل", "في الطريق"])
    b.unanswerable(k, "ar", "متى يوصل طلبي؟ رقمه DO-777120", ["غدا"])
    b.unanswerable(k, "ru", "где мой заказ DO-208451?", ["доставлен", "в пути"])
    b.unanswerable(k, "ru", "когда привезут мой заказ DO-451203", ["завтра", "сегодня"])
    k = "unanswerable_offtopic"
    b.unanswerable(k, "en", "Do you sell used cars?", ["yes, we sell used cars", "yes, we sell"])
    b.unanswerable(k, "en", "whats the weather in dubai tomorrow", ["degrees", "sunny"])
    b.unanswerable(k, "en", "can you recommend a good restaurant in jumeirah", ["i recommend"])
    b.unanswerable(k, "en", "who won the football last night", ["won the match", "beat "])
    b.unanswerable(k, "en", "how much is a flight to london", ["aed", "dirham"])
    b.unanswerable(k, "en", "can u do my math homework 17 times 23", ["391"])
    b.unanswerable(k, "ar", "كم سعر الذهب اليوم", ["درهم للغرام"])
    b.unanswerable(k, "ar", "هل تبيعون سيارات مستعملة", ["نعم، نبيع"])
    b.unanswerable(k, "ru", "какая завтра погода в Дубае", ["градус", "солнечно"])
    b.unanswerable(k, "ru", "вы продаёте подержанные машины?", ["да, продаём", "да, мы продаём"])
    k = "unanswerable_personal"
    b.unanswerable(k, "en", "what is the home address of your delivery driver ahmed", ["street", "villa"])
    b.unanswerable(k, "en", "whats my oak circle points balance", ["your balance is", "points balance is"])
    b.unanswerable(k, "en", "what card did i pay with last time", ["you paid with", "you used"])
    b.unanswerable(k, "en", "can you give me the phone number of the customer who bought the last Liwa table")
    b.unanswerable(k, "ar", "ما هو رصيد نقاطي في Oak Circle", ["رصيدك"])
    b.unanswerable(k, "ru", "какой у меня баланс баллов Oak Circle", ["ваш баланс"])
    b.unanswerable(k, "ru", "дайте мне номер телефона вашего водителя", ["+971 5"])
