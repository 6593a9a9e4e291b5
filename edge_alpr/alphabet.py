"""The characters of Mongolian plates: the single source of the alphabet and region codes.

The character classifier's class list is derived from here at training time and stored in
the model's metadata; the runtime reads it back from the model, not from this module.
"""

from __future__ import annotations

DIGITS: str = "0123456789"
# Letters printed on Mongolian plates (Cyrillic). О is a letter, never the digit 0.
LETTERS: str = "АБВГДЕЗИКЛМНОПРСТУФХЦЧЭЯӨҮ"
# Class for components that are not characters: emblem, oval MNG mark, bolts, frame pieces.
REJECT: str = "#"
CLASSES: str = DIGITS + LETTERS + REJECT

N_DIGITS: int = 4
N_LETTERS: int = 3

# Region codes (the first two letters) and the province or city they name; "" where the
# code is seen on plates but its name is not confirmed.
REGIONS: dict[str, str] = {
    "УБ": "Ulaanbaatar",
    "УН": "Ulaanbaatar",
    "УА": "Ulaanbaatar",
    # The gate camera's Ulaanbaatar traffic also carries these two, on 82 of its 320
    # eye-checked validation plates; no source here names them.
    "УЕ": "",
    "УК": "",
    "АР": "Arkhangai",
    "БӨ": "Bayan-Ölgii",
    "БХ": "Bayankhongor",
    "БУ": "Bulgan",
    "ГА": "Govi-Altai",
    "ГС": "Govisümber",
    "ДА": "Darkhan-Uul",
    "ДО": "Dornogovi",
    "ДГ": "Dundgovi",
    "ДУ": "Dornod",
    "ЗА": "Zavkhan",
    "ОР": "Orkhon",
    "ӨВ": "Övörkhangai",
    "ӨМ": "Ömnögovi",
    "СБ": "Sükhbaatar",
    "СЭ": "Selenge",
    "СҮ": "",
    "ТӨ": "Töv",
    "УВ": "Uvs",
    "ХЭ": "Khentii",
    "ХО": "Khovd",
    "ХӨ": "Khövsgöl",
    "БР": "",
}

# Names used for characters in the dataset's Pascal VOC files (see its README).
VOC_NAMES: dict[str, str] = {
    "a": "А", "b": "Б", "ch": "Ч", "d": "Д", "e": "Э", "ye": "Е", "g": "Г", "h": "Х",
    "i": "И", "k": "К", "l": "Л", "m": "М", "n": "Н", "o": "О", "p": "П", "q": "Ө",
    "r": "Р", "s": "С", "t": "Т", "ts": "Ц", "u": "У", "uu": "Ү", "v": "В", "ya": "Я",
    "z": "З", **{d: d for d in DIGITS},
}
