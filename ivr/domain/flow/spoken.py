"""Numbers, money, dates and times as words a text-to-speech voice reads correctly.

"$42.50" read by a TTS voice can come out as "four two point five zero"; "2026-11-24" as
"two thousand twenty six minus eleven...". So templates render values as words here, in
English (`en-*`) and Spanish (`es-*`); other languages fall back to English. Pure functions of
their arguments (no locale, no clock).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ES_ONES = ("cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece "
            "catorce quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno "
            "veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete "
            "veintiocho veintinueve").split()
_ES_TENS = "_ _ _ treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_ES_HUNDREDS = ("_ ciento doscientos trescientos cuatrocientos quinientos seiscientos "
                "setecientos ochocientos novecientos").split()

_EN_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_ES_DAYS = "lunes martes miércoles jueves viernes sábado domingo".split()
_EN_MONTHS = ("January February March April May June July August September October "
              "November December").split()
_ES_MONTHS = ("enero febrero marzo abril mayo junio julio agosto septiembre octubre "
              "noviembre diciembre").split()


def _spanish(language: str) -> bool:
    return language.lower().startswith("es")


def _en_below_thousand(n: int) -> str:
    words = []
    if n >= 100:
        words.append(f"{_EN_ONES[n // 100]} hundred")
        n %= 100
    if n >= 20:
        words.append(_EN_TENS[n // 10] + (f"-{_EN_ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(_EN_ONES[n])
    return " ".join(words)


def _es_below_thousand(n: int) -> str:
    if n == 100:
        return "cien"
    words = []
    if n >= 100:
        words.append(_ES_HUNDREDS[n // 100])
        n %= 100
    if n >= 30:
        words.append(_ES_TENS[n // 10] + (f" y {_ES_ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(_ES_ONES[n])
    return " ".join(words)


_EN_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ES_SCALES = ((10**9, "mil millones"), (10**6, "millones"), (1000, "mil"))


def integer_words(n: int, language: str = "en-US") -> str:
    """42 -> "forty-two" / "cuarenta y dos"; negative numbers get "minus"/"menos"."""
    spanish = _spanish(language)
    if n < 0:
        return ("menos " if spanish else "minus ") + integer_words(-n, language)
    below = _es_below_thousand if spanish else _en_below_thousand
    words = []
    for scale, name in _ES_SCALES if spanish else _EN_SCALES:
        if n >= scale:
            count, n = divmod(n, scale)
            words.append(_scale_words(count, scale, name, spanish, below))
    if n or not words:
        words.append(below(n))
    return " ".join(words)


def _scale_words(count: int, scale: int, name: str, spanish: bool, below: object) -> str:
    if spanish and scale == 1000 and count == 1:
        return "mil"
    if spanish and scale == 10**6 and count == 1:
        return "un millón"
    head = integer_words(count, "es" if spanish else "en")
    if spanish and head.endswith("veintiuno"):
        head = head[:-3] + "ún"  # "veintiún mil"
    elif spanish and head.endswith("uno"):
        head = head[:-1]  # "treinta y un mil", "un millón"
    return f"{head} {name}"


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", "").strip().lstrip("$"))
    except InvalidOperation:
        return None


def number_words(value: object, language: str = "en-US") -> str:
    """A number as words; decimals read digit by digit after "point"/"punto"."""
    amount = _decimal(value)
    if amount is None:
        return str(value)
    whole = int(amount)
    text = integer_words(whole, language)
    fraction = str(abs(amount)).partition(".")[2].rstrip("0")
    if fraction:
        point = "punto" if _spanish(language) else "point"
        text += f" {point} " + " ".join(integer_words(int(d), language) for d in fraction)
    return text


def money_words(value: object, language: str = "en-US") -> str:
    """42.5 -> "forty-two dollars and fifty cents" / "cuarenta y dos dólares con cincuenta
    centavos". Rounded to the cent, half up, as a bank statement would be."""
    amount = _decimal(value)
    if amount is None:
        return str(value)
    cents_total = int((abs(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    dollars, cents = divmod(cents_total, 100)
    spanish = _spanish(language)
    unit = ("dólar" if dollars == 1 else "dólares") if spanish else (
        "dollar" if dollars == 1 else "dollars")
    text = f"{integer_words(dollars, language)} {unit}"
    if spanish and text.startswith("uno "):
        text = "un " + text[4:]
    if cents:
        cent_unit = ("centavo" if cents == 1 else "centavos") if spanish else (
            "cent" if cents == 1 else "cents")
        joiner = "con" if spanish else "and"
        text += f" {joiner} {integer_words(cents, language)} {cent_unit}"
    return ("menos " if spanish else "minus ") + text if amount < 0 else text


def digit_words(value: object, language: str = "en-US") -> str:
    """"10000008" -> "1 0 0 0 0 0 0 8": an order number is read digit by digit, not as ten
    million and eight. Digits stay digits (every TTS voice reads single digits well)."""
    return " ".join(ch for ch in str(value) if not ch.isspace())


def parse_when(value: object) -> datetime | date | None:
    """Accept a date, a datetime or their ISO-8601 text (lookup sources return text)."""
    if isinstance(value, datetime | date):
        return value
    text = str(value).strip()
    for parse in (datetime.fromisoformat, date.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def date_words(value: object, language: str = "en-US") -> str:
    """"2026-11-24" -> "Tuesday, November 24" / "martes, 24 de noviembre"."""
    when = parse_when(value)
    if when is None:
        return str(value)
    day = when.date() if isinstance(when, datetime) else when
    if _spanish(language):
        return f"{_ES_DAYS[day.weekday()]}, {day.day} de {_ES_MONTHS[day.month - 1]}"
    return f"{_EN_DAYS[day.weekday()]}, {_EN_MONTHS[day.month - 1]} {day.day}"


def time_words(value: object, language: str = "en-US") -> str:
    """"18:00" or an ISO datetime -> "6 PM" / "6:30 PM"; Spanish "6 de la tarde"."""
    moment: time | None
    when = parse_when(value)
    if isinstance(when, datetime):
        moment = when.time()
    else:
        try:
            moment = time.fromisoformat(str(value).strip())
        except ValueError:
            return str(value)
    hour12 = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    if _spanish(language):
        part = ("de la mañana" if moment.hour < 12 else
                "de la tarde" if moment.hour < 20 else "de la noche")
        return f"{hour12}{minutes} {part}"
    return f"{hour12}{minutes} {'AM' if moment.hour < 12 else 'PM'}"


def datetime_words(value: object, language: str = "en-US") -> str:
    """"2026-11-24T18:00:00-08:00" -> "Tuesday, November 24 at 6 PM" (local to the value)."""
    when = parse_when(value)
    if not isinstance(when, datetime):
        return date_words(value, language)
    at = "a las" if _spanish(language) else "at"
    return f"{date_words(when, language)} {at} {time_words(when, language)}"
