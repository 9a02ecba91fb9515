"""Item labels and answer options of the questionnaires (short, translatable labels).

HADS item wording is copyrighted, so only short labels are shown.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

RAND36_LABELS = {
    1: _("In general, your health is"),
    2: _("Health compared to one year ago"),
    3: _("Vigorous activities"),
    4: _("Moderate activities"),
    5: _("Lifting or carrying groceries"),
    6: _("Climbing several flights of stairs"),
    7: _("Climbing one flight of stairs"),
    8: _("Bending, kneeling or stooping"),
    9: _("Walking more than a kilometre"),
    10: _("Walking several hundred metres"),
    11: _("Walking one hundred metres"),
    12: _("Bathing or dressing yourself"),
    13: _("Physical: cut down time on work or activities"),
    14: _("Physical: accomplished less than you would like"),
    15: _("Physical: limited in the kind of work"),
    16: _("Physical: difficulty performing work"),
    17: _("Emotional: cut down time on work or activities"),
    18: _("Emotional: accomplished less than you would like"),
    19: _("Emotional: did work less carefully than usual"),
    20: _("Health interfered with social activities (extent)"),
    21: _("Bodily pain in the past 4 weeks"),
    22: _("Pain interfered with normal work"),
    23: _("Did you feel full of pep?"),
    24: _("Have you been very nervous?"),
    25: _("Felt so down in the dumps nothing could cheer you up?"),
    26: _("Have you felt calm and peaceful?"),
    27: _("Did you have a lot of energy?"),
    28: _("Have you felt downhearted and blue?"),
    29: _("Did you feel worn out?"),
    30: _("Have you been a happy person?"),
    31: _("Did you feel tired?"),
    32: _("Health interfered with social activities (time)"),
    33: _("I seem to get sick easier than others"),
    34: _("I am as healthy as anybody I know"),
    35: _("I expect my health to get worse"),
    36: _("My health is excellent"),
}

_GENERAL = [_("excellent"), _("very good"), _("good"), _("fair"), _("poor")]
_CHANGE = [
    _("much better"),
    _("somewhat better"),
    _("about the same"),
    _("somewhat worse"),
    _("much worse"),
]
_LIMITED = [_("limited a lot"), _("limited a little"), _("not limited")]
_YES_NO = [_("yes"), _("no")]
_EXTENT = [_("not at all"), _("slightly"), _("moderately"), _("quite a bit"), _("extremely")]
_PAIN = [_("none"), _("very mild"), _("mild"), _("moderate"), _("severe"), _("very severe")]
_INTERFERE = [_("not at all"), _("a little bit"), _("moderately"), _("quite a bit"), _("extremely")]
_TIME6 = [
    _("all of the time"),
    _("most of the time"),
    _("a good bit of the time"),
    _("some of the time"),
    _("a little of the time"),
    _("none of the time"),
]
_TIME5 = [
    _("all of the time"),
    _("most of the time"),
    _("some of the time"),
    _("a little of the time"),
    _("none of the time"),
]
_TRUE = [
    _("definitely true"),
    _("mostly true"),
    _("don't know"),
    _("mostly false"),
    _("definitely false"),
]

RAND36_OPTIONS = {
    1: _GENERAL,
    2: _CHANGE,
    **dict.fromkeys(range(3, 13), _LIMITED),
    **dict.fromkeys(range(13, 20), _YES_NO),
    20: _EXTENT,
    21: _PAIN,
    22: _INTERFERE,
    **dict.fromkeys(range(23, 32), _TIME6),
    32: _TIME5,
    **dict.fromkeys(range(33, 37), _TRUE),
}

HADS_LABELS = {
    1: _("tense or wound up"),
    2: _("no longer enjoys the things enjoyed before"),
    3: _("frightened feeling, something awful will happen"),
    4: _("cannot laugh and see the funny side"),
    5: _("worrying thoughts"),
    6: _("not cheerful"),
    7: _("cannot sit at ease and feel relaxed"),
    8: _("feels slowed down"),
    9: _("frightened 'butterflies' feeling"),
    10: _("lost interest in appearance"),
    11: _("restless, has to be on the move"),
    12: _("does not look forward with enjoyment"),
    13: _("sudden feelings of panic"),
    14: _("cannot enjoy a book, radio or TV"),
}

HDRS_LABELS = {
    1: _("depressed mood"),
    2: _("guilt"),
    3: _("suicide"),
    4: _("insomnia, early"),
    5: _("insomnia, middle"),
    6: _("insomnia, late"),
    7: _("work and activities"),
    8: _("psychomotor retardation"),
    9: _("agitation"),
    10: _("anxiety, psychic"),
    11: _("anxiety, somatic"),
    12: _("somatic symptoms, gastrointestinal"),
    13: _("somatic symptoms, general"),
    14: _("genital symptoms"),
    15: _("hypochondriasis"),
    16: _("weight loss"),
    17: _("insight"),
}
