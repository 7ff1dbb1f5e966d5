"""Ready-made questions of the Pipeline, Training, Text, Signals and Losses labs
(app.classroom.lab_questions): each right answer is worked out here another way (the lab's
page, a loop, the formula by hand), the wrong options differ from it, and the question is
asked, answered and revealed in both languages."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from app.classroom import questions, views
from app.config import Settings
from app.main import create_app
from app.media.deps import MediaStore
from app.web.i18n import load_translations
from app.web.numbers import Numbers


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("q"), run_workers=0))


@pytest.fixture(scope="module")
def media(app):
    samples = app.state.settings.static_dir / "samples"
    return MediaStore(app.state.uploads, app.state.results, samples)


def asked(url: str, media) -> dict:
    return {item.key: item.question for item in questions.ready_questions(url, media)}


def right_option(question) -> dict:
    return question.options[int(question.answer)]


def assert_options_are_distinct(question) -> None:
    texts = [str(option) for option in question.options]
    assert len(texts) == len(set(texts)) >= 2


def page_number(text: str, pattern: str) -> int:
    return int(re.search(pattern, text).group(1).replace(",", ""))


@pytest.mark.parametrize(
    "query",
    ["", "dataset=shapes&preset=tiny", "preset=custom&arch=conv+4+3x3,+pool+2,+flatten,+dense+7"],
)
def test_training_parameters_are_what_its_page_says(app, media, query):
    found = asked(f"/train?{query}", media)
    page = TestClient(app).get(f"/train?{query}").text
    assert found["parameters"].answer == page_number(page, r"([\d,]+) parameters, ")
    flatten = found["flatten"]
    c, h, w = (flatten.explanation_params[key] for key in "chw")
    assert flatten.answer == c * h * w
    assert_options_are_distinct(found["output"])
    assert right_option(found["output"])["params"]["shape"] in {"10", "4"}  # the classes


def test_pipeline_calculator_questions_follow_its_table(media):
    arch = "conv 8 3x3 pad 1, pool 2, conv 16 3x3, flatten, dense 10"
    found = asked(f"/pipeline?input=3x32x32&arch={arch}", media)
    conv1, conv2, dense = 8 * 3 * 9 + 8, 16 * 8 * 9 + 16, 16 * 14 * 14 * 10 + 10  # by hand
    assert found["calc-parameters"].answer == conv1 + conv2 + dense
    assert found["calc-flatten"].answer == 16 * 14 * 14
    assert right_option(found["calc-output"])["params"]["shape"] == "10"
    assert_options_are_distinct(found["calc-output"])


@pytest.mark.parametrize(
    ("text", "maxlen", "padding", "follow", "zeros"),
    [("the film was great", 12, "pre", 1, 8), ("a b c\nthe film was great", 5, "post", 2, 1),
     ("the film was great but the end was long and dull and slow and sad", 6, "pre", 1, 0)],
)  # fmt: skip
def test_text_padding_positions_and_pooling(media, text, maxlen, padding, follow, zeros):
    query = urlencode({"text": text, "maxlen": maxlen, "pad": padding, "follow": follow})
    found = asked(f"/text?{query}", media)
    # every word of these sentences is in the built-in vocabulary (one-letter words are not)
    assert found["padding"].answer == zeros
    width = found["positions"].params["w"]
    assert found["positions"].answer == len(range(0, maxlen - width + 1))  # a window per start
    pooled = found["pooled"]
    assert right_option(pooled)["params"]["n"] == 8 * 4  # 8 filters of each of 4 widths
    assert_options_are_distinct(pooled)


def loop_convolution(x: list[float], h: list[float]) -> list[float]:
    return [sum(x[k] * h[n - k] for k in range(len(x)) if 0 <= n - k < len(h))
            for n in range(len(x) + len(h) - 1)]  # fmt: skip


@pytest.mark.parametrize(
    ("xs", "hs", "pos"), [("1 0 0 2 1 0", "1 0.5 0.25", 0), ("3 -1 2", "0.5 0.5", 2),
                          ("1 2 3 4", "1 -1", 4)],
)  # fmt: skip
def test_signals_flip_and_slide(media, xs, hs, pos):
    found = asked(f"/signals?xs={xs}&hs={hs}&pos={pos}", media)
    x, h = [float(v) for v in xs.split()], [float(v) for v in hs.split()]
    y = loop_convolution(x, h)
    assert right_option(found["slide-length"])["params"]["n"] == len(y)
    assert_options_are_distinct(found["slide-length"])
    if pos + 1 < len(y):
        assert found["slide-next"].answer == pytest.approx(y[pos + 1])
        terms = found["slide-next"].explanation_params["terms"]
        assert sum(value for _, value in terms) == pytest.approx(y[pos + 1])
    else:  # the last output is shown: there is no next one to ask about
        assert "slide-next" not in found


@pytest.mark.parametrize(
    ("y", "yhat", "pull"), [(1.0, 2.5, 0), (1.0, 1.25, 1), (0.0, 0.5, 2), (-2.0, -2.0, 1)]
)  # fmt: skip
def test_losses_mse_and_which_pulls_harder(media, y, yhat, pull):
    found = asked(f"/losses?y={y}&yhat={yhat}", media)
    assert found["mse"].answer == pytest.approx((yhat - y) ** 2)
    # |2(ŷ − y)| against |sign(ŷ − y)|; at ŷ = y MAE's gradient is 0 as well as MSE's
    assert found["pull"].answer == (pull if yhat != y else 2)


def test_losses_why_squares_picks_the_model_without_the_outlier(media):
    found = asked("/losses", media)  # B predicts 14 for a target of 6
    assert found["squares"].answer == 0  # model A: the lower MSE
    params = found["squares"].explanation_params
    assert params["a"] < params["b"] and params["ma"] == params["mb"]  # the same MAE


def test_a_broken_view_offers_none(media):
    assert asked("/losses?y=99", media) == {}
    assert asked("/train?size=99", media) == {}
    assert asked("/pipeline?arch=conv+8+99x99", media) == {}
    assert asked("/signals?xs=a+b", media) == {}
    assert asked("/text?text=%21%21%21", media) == {}  # no words: the lab refuses it
    assert asked("/text?follow=9", media) == {}


@pytest.mark.parametrize("locale", ["en", "pt_BR"])
def test_every_new_question_reads_in_both_languages(app, media, locale):
    gettext = load_translations(app.state.settings.locales_dir)[locale].gettext
    numbers = Numbers(locale)
    urls = ["/train", "/pipeline", "/text", "/signals", "/losses"]
    for url in urls:
        found = questions.ready_questions(url, media)
        assert len(found) >= 2, url
        for item in found:
            shown = views.shown(item.question, gettext, numbers)
            assert "%(" not in shown.text + shown.explanation + "".join(shown.options)
            if locale == "pt_BR":
                assert shown.text != item.question.text, shown.text  # translated


def test_a_training_question_asked_answered_in_both_languages_and_revealed(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, run_workers=0))
    teacher = TestClient(app, follow_redirects=False)
    code = re.fullmatch(r"/class/(\w+)/teach", teacher.post("/class").headers["location"])[1]
    teacher.post(f"/class/{code}/view", data={"url": "/train"})
    ask = teacher.get(f"/class/{code}/ask").text
    assert "how many parameters (weights and biases)" in ask and 'value="output"' in ask
    asked = teacher.post(f"/class/{code}/questions", data={"ready": "parameters"})
    question_id = asked.headers["location"].rsplit("/", 1)[1]
    typed = [("Ana", "en", "44,426"), ("Bia", "pt_BR", "44.426"), ("Caio", "pt_BR", "44426,5")]
    students = []
    for nickname, lang, answer in typed:
        student = TestClient(app, follow_redirects=False)
        student.cookies.set("lang", lang)
        assert student.post(f"/class/{code}/join", data={"nickname": nickname}).status_code == 303
        box = student.get(f"/class/{code}/question").text
        assert ("how many parameters" if lang == "en" else "quantos parâmetros") in box
        sent = student.post(f"/class/{code}/answer", headers={"HX-Request": "true"},
                            data={"question": question_id, "answer": answer})  # fmt: skip
        assert sent.status_code == 200, sent.text
        students.append(student)
    teacher.post(f"/class/{code}/questions/{question_id}/reveal")
    right = [s.get(f"/class/{code}/question").text for s in students]
    assert "You were right!" in right[0]
    assert "Você acertou" in right[1] and "Você acertou" not in right[2]
    assert "44.426" in right[2] and "conv 6 5x5 same: 156" in right[2]  # pt-BR's numbers
