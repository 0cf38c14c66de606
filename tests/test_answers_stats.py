import pytest

from strawberry.scoring import mcnemar_exact, wilson_interval
from strawberry.tasks import ParsedAnswer, parse_answer


@pytest.mark.parametrize(
    "task, reply, strict, lenient",
    [  # replies seen from SmolLM2-135M-Instruct and tiny models on this project's questions
        ("position", "d", "d", "d"),
        ("position", " D\n", "d", "d"),
        ("position", "The 3rd letter of the word 'added' is 'A'.", None, "a"),
        ("position", "The letter 'b' is not a valid option in the", None, "b"),
        ("position", 'The letter "f" is a special letter that represents the', None, "f"),
        ("position", "The letter is d.", None, "d"),
        ("position", "The 1st letter of 'sluggardness", None, None),
        ("position", "s t r a w", None, None),  # a spelling, not an answer
        ("position", "s t r a w b e", None, None),  # ... cut off while spelling
        ("position", "I think it is e", None, "e"),  # the pronoun I is no answer
        ("position", "I", "i", "i"),
        ("position", "It is d, not e", None, "d"),
        ("position", "มาตรฐานมาตรฐาน", None, None),
        ("count", "3", "3", "3"),
        ("count", "The letter 'r' appears 10 times in the sentence \"strawberry.\"", None, "10"),
        ("count", "There are three r's.", None, "3"),
        ("count", "Zero", None, "0"),
        ("count", "s, t, r, a, w", None, None),
        ("count", "The letter 'r' appears once.", None, "1"),
        ("count", "It appears twice", None, "2"),
        ("count", "none", None, "0"),
        ("count", "No, there is no 'q' in 'strawberry'.", None, "0"),
        ("count", "No, it appears 3 times.", None, "3"),  # a number wins over "no"
        ("count", "The 10-letter word has 3 r's.", None, "3"),  # the word's length is not the count
        ("length", "It is a 10-letter word.", None, "10"),  # ... but it is the length
        ("length", "It has eleven letters.", None, "11"),
        ("length", "10 letters", None, "10"),
        ("length", "twenty-one", None, "20"),  # first number word only: documented limitation
    ],
)
def test_parse_answer(task, reply, strict, lenient):
    parsed = parse_answer(task, reply)
    assert (parsed.strict, parsed.lenient) == (strict, lenient)


def test_parse_answer_unknown_task():
    with pytest.raises(ValueError, match="no answer parser"):
        parse_answer("rhyme", "s t r a w")


def test_parse_spelling_reply():
    """Spelling is parsed for the /spell endpoint only (never evaluated): the letters, in order."""
    assert parse_answer("spelling", "s t r a w") == ParsedAnswer("straw", "straw")
    assert parse_answer("spelling", "S-T-R-A-W") == ParsedAnswer("straw", "straw")
    assert parse_answer("spelling", "s, t, r, a, w\n") == ParsedAnswer("straw", "straw")
    assert parse_answer("spelling", "It is straw") == ParsedAnswer(None, "itisstraw")  # lenient: every letter
    assert parse_answer("spelling", "...") == ParsedAnswer(None, None)


def test_wilson_interval():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    for n in range(1, 500):  # the interval always holds the proportion, at 0 and 1 too (rounding)
        for k in (0, n // 3, n):
            low, high = wilson_interval(k, n)
            assert low <= k / n <= high


def test_mcnemar_exact():
    # 6 discordant pairs, all in favour of tuned: p = 2 * 0.5**6
    assert mcnemar_exact([False] * 6 + [True] * 4, [True] * 10) == pytest.approx(0.03125)
    assert mcnemar_exact([True, False], [True, False]) == 1.0
    assert mcnemar_exact([True, False, True], [False, True, True]) == 1.0
    with pytest.raises(ValueError):
        mcnemar_exact([True], [True, False])
