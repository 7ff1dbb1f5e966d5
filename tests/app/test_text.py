"""The Text lab over HTTP: the pipeline page and fragment, every bad input, runs, try it."""

import re
from html import unescape
from urllib.parse import quote

import numpy as np
import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from engine.text import Tokenizer, load_reviews
from tests.app.conftest import HX, HX_CONTROLS
from tests.conftest import wait_for_run as wait

HX_TRAIN = {**HX, "X-Error-Target": "#train-error"}
HX_TRY = {**HX, "X-Error-Target": "#try-error"}


@pytest.fixture(scope="module")
def vocab():
    return Tokenizer(oov_token="<OOV>").fit_on_texts(load_reviews().train_texts)


def tokens(html: str) -> list[tuple[str, str]]:
    """(word, id) of every token chip, in order."""
    chips = re.findall(r'data-testid="token" data-id="(\d*)".*?<bdi class="text-word">([^<]*)<',
                       html, re.S)  # fmt: skip
    return [(unescape(word), i) for i, word in chips]


def matrix(html: str) -> list[list[str]]:
    """The padded matrix as text cells (ids; padding as "0"), without the cut columns."""
    table = html.split('data-testid="matrix"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r'data-testid="matrix-row".*?</tr>', table, re.S):
        cells = re.findall(r'<td(?: class="pad" data-testid="pad"| title="[^"]*")>(\d+)', row)
        rows.append(cells)
    return rows


def error_text(html: str) -> str:
    match = re.search(r'class="error-message" role="alert"[^>]*>([^<]*)<', html)
    return unescape(match.group(1)) if match else ""


# --- the pipeline ---------------------------------------------------------------------------------


def test_the_page_states_the_corpus_size_right():
    from app.labs.text.network import BUILTIN_TRAIN_TEXTS

    assert len(load_reviews().train_texts) == BUILTIN_TRAIN_TEXTS


def test_page_and_fragment(client):
    page = client.get("/text")
    assert page.status_code == 200 and "<html" in page.text
    assert 'action="/text"' in page.text and 'id="train-form"' in page.text
    for stage in (
        "stage-tokens",
        "stage-sequences",
        "stage-embeddings",
        "stage-conv",
        "stage-pool",
    ):
        assert f'id="{stage}"' in page.text
    fragment = client.get("/text?text=great%20film&maxlen=6&pad=post", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="lab"')
    assert fragment.headers["HX-Push-Url"] == (
        "/text?text=great+film&maxlen=6&pad=post&trunc=pre&oov=1&lower=1"
    )
    # The training form's copy of the settings follows, out of band.
    assert 'id="train-settings" hx-swap-oob="true"' in fragment.text
    assert '<input type="hidden" name="pad" value="post">' in fragment.text


def test_tokens_get_their_corpus_ids_and_oov_is_marked(client, vocab):
    html = client.get("/text?text=" + quote("The hotel was great, but xyzzy!")).text
    expected = [(w, str(vocab.word_index.get(w, 1))) for w in
                ("the", "hotel", "was", "great", "but", "xyzzy")]  # fmt: skip
    assert tokens(html) == expected
    assert expected[-1] == ("xyzzy", "1")
    assert html.count('<span class="text-flag">OOV</span>') == sum(
        w not in vocab.word_index for w, _ in expected
    )


def test_without_oov_unknown_words_are_dropped(client):
    html = client.get("/text?text=great%20xyzzy%20film&oov=0&oov=0").text
    assert [i for _, i in tokens(html)][1] == ""  # no id
    assert "text-dropped" in html and ">dropped<" in html


def test_num_words_turns_rare_words_into_oov(client, vocab):
    rare = next(w for w, i in vocab.word_index.items() if i > 50)
    html = client.get(f"/text?text=the%20{quote(rare)}&words=10").text
    assert tokens(html) == [("the", str(vocab.word_index["the"])), (rare, "1")]
    assert "num_words = 10 keeps only ids below 10." in html


@pytest.mark.parametrize(
    ("pad", "expected"),
    [("pre", ["0", "0", "0", "A", "B"]), ("post", ["A", "B", "0", "0", "0"])],
)
def test_padding_side_moves_the_zeros(client, vocab, pad, expected):
    ids = {"A": str(vocab.word_index["great"]), "B": str(vocab.word_index["film"])}
    html = client.get(f"/text?text=great%20film&maxlen=5&pad={pad}").text
    assert matrix(html) == [[ids.get(c, c) for c in expected]]
    assert html.count('data-testid="pad"') == 3


@pytest.mark.parametrize(("trunc", "cut"), [("pre", "xa xb"), ("post", "xi xj")])
def test_truncating_side_cuts_and_shows_the_cut_words(client, trunc, cut):
    text = quote("xa xb xc xd xe xf xg xh xi xj")  # 10 words, all unknown: all OOV id 1
    html = client.get(f"/text?text={text}&maxlen=8&trunc={trunc}").text
    where = "cut-front" if trunc == "pre" else "cut-back"
    cell = html.split(f'data-testid="{where}">', 1)[1].split("</td>", 1)[0]
    assert re.findall(r"<bdi>(\w+)</bdi>", cell) == cut.split()
    assert matrix(html) == [["1"] * 8]
    assert f'truncating="{trunc}" cuts 2' in unescape(html)


def test_several_sentences_make_a_matrix_and_one_is_followed(client):
    text = quote("great film\nterrible service and food\nok")
    html = client.get(f"/text?text={text}&maxlen=6&follow=2").text
    rows = matrix(html)
    assert [len(r) for r in rows] == [6, 6, 6]
    assert [r.count("0") for r in rows] == [4, 2, 5]
    assert html.count('class="text-followed"') == 1
    assert "sentence 2 becomes a 6 × 16 matrix" in html


def test_embedding_parameter_counts(client, vocab):
    html = client.get("/text?text=great%20film").text
    v, d, f, widths = vocab.vocab_size, 16, 8, (2, 3, 4, 5)
    onehot = sum(f * v * w + f for w in widths)
    embedded = v * d + sum(f * d * w + f for w in widths)
    assert f'data-testid="onehot-params">{onehot:,}<' in html
    assert f'data-testid="embedding-params">{embedded:,}<' in html
    assert html.count('class="text-heat-cell"') == 12 * d  # maxlen 12 rows of D numbers


def test_conv_strips_show_every_width_and_the_engines_best_ngram(client):
    from app.labs.text.fields import TextFields as TextState
    from app.labs.text.network import builtin_network
    from app.media.cache import LRUBytesCache
    from engine.text import pad_sequences
    from engine.textexplain import conv_strips

    html = client.get("/text?text=the%20food%20was%20not%20good%20at%20all&maxlen=8").text
    strips = re.findall(r'data-testid="conv-strip" data-width="(\d)"', html)
    assert strips == ["2", "3", "4", "5"]
    # The same untrained network, computed directly: its top filter's n-gram is on the page.
    net = builtin_network(TextState(), LRUBytesCache(1 << 26))
    words = ["the", "food", "was", "not", "good", "at", "all"]
    ids = pad_sequences(net.tokenizer.texts_to_sequences([" ".join(words)]), 8)[0]
    row_words = [None] + words
    for strip in conv_strips(net.model, ids):
        top = int(np.argsort(-strip.pooled, kind="stable")[0])
        best = int(strip.best[top])
        gram = " ".join(w or "·" for w in row_words[best : best + strip.width])
        section = html.split(f'data-width="{strip.width}"', 1)[1].split('data-testid="conv-strip"')[
            0
        ]
        first_row = section.split('data-testid="best-ngram">', 1)[1]
        assert first_row.startswith(f"«<bdi>{gram}</bdi>»")
        # The explained cell adds up, word by word, to the filter's largest response.
        explained = section.split('data-testid="conv-explain"', 1)[1].split("</p>", 1)[0]
        total = float(re.search(r"<strong>([-\d.]+)</strong>", explained).group(1))
        assert total == pytest.approx(strip.values[top, best], abs=1e-3)
        assert explained.count("(w<sub>") == strip.width
    assert html.count('class="text-strip-row"') == 4 * 6


def test_prediction_probabilities_add_up(client):
    html = client.get("/text?text=great%20film").text
    block = html.split('data-testid="probabilities"', 1)[1].split("</div>\n  <p", 1)[0]
    values = [float(v) for v in re.findall(r'class="bar-value">([\d.]+)%', block)]
    assert len(values) == 2 and sum(values) == pytest.approx(100, abs=0.2)
    assert "untrained: a guess" in html


def test_accents_in_any_normal_form_reach_the_same_id(client, vocab):
    nfd = quote("o\u0301timo")
    html = client.get(f"/text?text={nfd}").text
    assert tokens(html) == [("ótimo", str(vocab.word_index["ótimo"]))]


def test_mixed_scripts_are_shown_with_a_notice(client):
    text = quote("great movie 😀 مرحبا мир")
    response = client.get(f"/text?text={text}")
    assert response.status_code == 200
    notices = [unescape(n) for n in re.findall(r'data-testid="notice">([^<]*)<', response.text)]
    assert len(notices) == 3
    assert "😀" in notices[0] and "مرحبا" in notices[1] and "мир" in notices[2]
    assert '<bdi class="text-word">مرحبا</bdi>' in response.text


def test_direction_controls_and_control_characters_are_removed(client):
    text = quote("great \u202efilm\u202c\x07 now")
    html = client.get(f"/text?text={text}").text
    assert "\u202e" not in html and "\x07" not in html
    assert [w for w, _ in tokens(html)] == ["great", "film", "now"]


BAD = [
    ("text=", 400, "the text is empty"),
    ("text=%20%0A%20", 400, "the text is empty"),
    ("text=...%21%3F", 400, "only punctuation"),
    ("text=" + "a" * 1001, 413, "1,001 characters long; the limit is 1,000"),
    ("text=%FF%FE", 400, "not valid UTF-8"),
    ("text=" + quote("😀😍"), 422, "written in emoji"),
    ("text=" + quote("مرحبا بكم"), 422, "written in Arabic"),
    ("text=" + quote("שלום"), 422, "written in Hebrew"),
    ("text=" + "%0A".join("abcdefghi"), 400, "at most 8 sentences"),
    ("maxlen=0", 400, "between 5 and 100 (got 0)"),
    ("maxlen=-4", 400, "between 5 and 100 (got -4)"),
    ("maxlen=3", 400, "at least 5 here (got 3)"),
    ("maxlen=99999999999999999999", 400, "between 5 and 100"),
    ("maxlen=2.5", 400, "whole number"),
    ("words=1", 400, "num_words) must be at least 2 (got 1)"),
    ("words=0", 400, "at least 2 (got 0)"),
    ("words=-3", 400, "at least 2 (got -3)"),
    ("words=lots", 400, "whole number"),
    ("pad=middle", 400, "Padding must be one of: pre, post"),
    ("trunc=both", 400, "Truncating must be one of: pre, post"),
    ("follow=0", 400, "Sentence to follow must be between 1 and 8"),
    ("oov=maybe", 400, "On or off must be one of"),
    ("run=not-a-run", 404, "There is no run"),
    ("run=0123456789ab", 404, "There is no text run '0123456789ab'"),
]


@pytest.mark.parametrize(("query", "status", "message"), BAD)
def test_bad_input_is_a_clear_4xx_in_place(client, query, status, message):
    page = client.get(f"/text?{query}")
    assert page.status_code == status
    assert message in error_text(page.text)
    assert 'id="controls"' in page.text  # the form is back, with what was typed
    fragment = client.get(f"/text?{query}", headers=HX_CONTROLS)
    assert fragment.status_code == status
    assert fragment.headers["HX-Retarget"] == "#controls-error"
    assert message in error_text(fragment.text)


def test_the_form_comes_back_as_typed(client):
    page = client.get("/text?text=" + quote("my <b>words</b>") + "&maxlen=3&pad=post")
    assert page.status_code == 400
    assert "my &lt;b&gt;words&lt;/b&gt;</textarea>" in page.text
    assert 'name="maxlen" min="5" max="100" value="3"' in page.text
    assert 'value="post" checked' in page.text


# --- training -------------------------------------------------------------------------------------

FORM = {"source": "builtin", "maxlen": "12", "pad": "pre", "trunc": "pre", "words": "",
        "oov": "1", "lower": "1", "epochs": "4", "dim": "16", "filters": "8", "lr": "0.01",
        "dropout": "0.5", "seed": "0"}  # fmt: skip


def start(client, **fields) -> str:
    response = client.post("/text/runs", data=FORM | fields, follow_redirects=False)
    assert response.status_code == 303, response.text[:400]
    return response.headers["location"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def trainer():
    with TestClient(create_app(Settings(run_workers=2, run_max_seconds=60))) as client:
        yield client


@pytest.fixture(scope="module")
def trained(trainer):
    run_id = start(trainer)
    assert wait(trainer, run_id) == "finished"
    return run_id


def test_a_run_trains_on_the_reviews_and_reports(trainer, trained):
    run = trainer.app.state.runs.get(trained)
    assert run.config["kind"] == "text" and run.test_accuracy >= 0.8
    assert len(run.epochs) == 4 and run.steps_done == run.total_steps
    html = trainer.get(f"/text/runs/{trained}").text
    assert 'data-testid="run-status">finished' in html
    assert 'data-testid="test-accuracy">' in html and "on 80 texts it never trained on" in html
    assert "<svg" in html.split('data-testid="loss-chart"', 1)[1][:200]
    assert 'data-testid="embedding-view"' in html and 'data-word="excelente"' in html
    status = trainer.get(f"/text/runs/{trained}/status")
    assert status.text.lstrip().startswith('<div id="run-status"')
    assert status.headers["Cache-Control"] == "no-store"
    assert f'href="/text/runs/{trained}"' in trainer.get("/text").text  # listed as recent


def test_the_embedding_view_puts_synonyms_together(trainer, trained):
    from app.labs.text.network import run_network
    from app.labs.text.views import embedding_points

    net = run_network(trainer.app.state.runs.get(trained), trainer.app.state.results)
    points = {p["word"]: p for p in embedding_points(net, [])["points"]}
    good = np.array([[points[w]["x"], points[w]["y"]] for w in ("ótimo", "excelente")])
    bad = np.array([[points[w]["x"], points[w]["y"]] for w in ("péssimo", "horrível")])
    within = np.linalg.norm(good[0] - good[1])
    across = np.linalg.norm(good.mean(axis=0) - bad.mean(axis=0))
    assert within < across


def test_try_it_predicts_and_shows_each_words_share(trainer, trained):
    text = "the staff were rude and the food was terrible"
    response = trainer.get(f"/text/runs/{trained}/try?try={quote(text)}", headers=HX_TRY)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == f"/text/runs/{trained}?try={quote_plus(text)}"
    html = response.text
    assert 'data-testid="try-prediction">negative<' in html
    deltas = {w: float(d) for d, w in re.findall(
        r'data-delta="([-\d.]+)"><bdi>([^<]*)</bdi>', html)}  # fmt: skip
    assert set(deltas) == set(text.split())
    assert deltas["terrible"] < 0  # it pushes away from "positive"
    assert 'id="try-error" class="error-region" aria-live="polite" hx-swap-oob="true"' in html
    # The same, as a page of its own (the pushed URL), and without JavaScript (a redirect).
    page = trainer.get(f"/text/runs/{trained}?try={quote(text)}")
    assert 'data-testid="try-prediction">negative<' in page.text
    assert 'data-word="terrible"' in page.text
    plain = trainer.get(f"/text/runs/{trained}/try?try=nice", follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].endswith("?try=nice")


def quote_plus(text: str) -> str:
    from urllib.parse import quote_plus as qp

    return qp(text)


@pytest.mark.parametrize(("text", "status", "message"), [
    ("", 400, "the text is empty"),
    ("😀😀", 422, "written in emoji"),
    ("x" * 1001, 413, "the limit is 1,000"),
])  # fmt: skip
def test_try_it_bad_input(trainer, trained, text, status, message):
    response = trainer.get(f"/text/runs/{trained}/try?try={quote(text)}", headers=HX_TRY)
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#try-error"
    assert message in error_text(response.text)
    page = trainer.get(f"/text/runs/{trained}?try={quote(text)}")
    assert page.status_code == status and message in error_text(page.text)


def test_the_pipeline_with_a_trained_run(trainer, trained):
    html = trainer.get(f"/text?run={trained}&text={quote('the food was excellent')}").text
    assert "is run " + trained + ", trained" in html
    assert 'data-testid="contributions"' in html
    assert 'name="words"' in html and "disabled" in html.split('name="words"', 1)[1][:200]


def test_own_corpus_with_three_labels_trains(trainer):
    lines = [f"{label},{text}" for label, text in [
        ("sport", "the team won the match"), ("sport", "a great goal in the final"),
        ("sport", "the players ran fast"), ("sport", "the coach praised the team"),
        ("food", "the soup was hot"), ("food", "fresh bread and cheese"),
        ("food", "the cake was sweet"), ("food", "pasta with tomato sauce"),
        ("tech", "the phone has a new chip"), ("tech", "install the app update"),
        ("tech", "the laptop battery is weak"), ("tech", "a faster processor"),
    ]]  # fmt: skip
    run_id = start(trainer, source="own", corpus="label,text\n" + "\n".join(lines), epochs="2")
    assert wait(trainer, run_id) == "finished"
    run = trainer.app.state.runs.get(run_id)
    assert run.extra["class_names"] == ["food", "sport", "tech"]
    assert run.extra["n_test"] == 3 and run.extra["n_train"] == 9
    assert "Your 12 lines, 3 labels" in trainer.get(f"/text/runs/{run_id}").text


BAD_CORPUS = [
    ({"source": "own", "corpus": ""}, 400, "Paste your own 'label,text' lines"),
    (
        {"source": "own", "corpus": "pos,good\nno comma here\npos,fine\n,empty label\nneg,!!!"},
        422,
        "3 lines are not 'label,text' with words after the comma: line 2, 4, 5.",
    ),
    (
        {"source": "own", "corpus": "\n".join(f"pos,text number {i}" for i in range(12))},
        422,
        "Every line has the label 'pos'",
    ),
    ({"source": "own", "corpus": "a,one\nb,two"}, 422, "has 2 usable lines; paste at least 10"),
    (
        {"source": "own", "corpus": "\n".join(f"x{i},word" for i in range(12))},
        422,
        "12 different labels; the limit is 10",
    ),
    ({"source": "own", "corpus": "pos,yes\n" * 11 + "neg,no"}, 422, "'neg' has only one"),
    ({"source": "own", "corpus": "pos,x\n" * 2001}, 413, "the limit is 2,000"),
    ({"source": "builtin", "epochs": "0"}, 400, "Epochs must be between 1 and 60"),
    ({"source": "builtin", "lr": "nan"}, 400, "Learning rate must be a finite number"),
    ({"source": "builtin", "maxlen": "0"}, 400, "between 5 and 100"),
    ({"source": "builtin", "words": "1"}, 400, "at least 2 (got 1)"),
    ({"source": "elsewhere"}, 400, "Training texts must be one of: builtin, own"),
]


@pytest.mark.parametrize(("fields", "status", "message"), BAD_CORPUS)
def test_bad_training_input(client, fields, status, message):
    response = client.post("/text/runs", data=FORM | fields, headers=HX_TRAIN)
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#train-error"
    assert message in error_text(response.text)
    # Without JavaScript: the lab again, the message in the training form, the lines kept.
    page = client.post("/text/runs", data=FORM | fields)
    assert page.status_code == status and message in error_text(page.text)
    assert 'id="train-form"' in page.text
    if fields.get("corpus") and len(fields["corpus"]) < 200:
        assert unescape(fields["corpus"].split("\n")[0]) in unescape(page.text)
    assert not client.app.state.runs.runs()  # nothing was started


def test_a_non_utf8_upload_is_refused(client):
    data = "pos,good\nneg,péssimo\n".encode("latin-1")
    response = client.post("/text/runs", data=FORM | {"source": "own"},
                           files={"corpus_file": ("reviews.csv", data, "text/csv")},
                           headers=HX_TRAIN)  # fmt: skip
    assert response.status_code == 400
    assert "not UTF-8 text: line 2 has the byte 0xE9" in error_text(response.text)


def test_a_utf8_upload_with_a_bom_is_read(trainer):
    lines = "\n".join(f"{'pos' if i % 2 else 'neg'},{'ótimo' if i % 2 else 'péssimo'} {i}"
                      for i in range(12))  # fmt: skip
    upload = {"corpus_file": ("r.csv", ("\ufeff" + lines).encode(), "text/csv")}
    response = trainer.post("/text/runs", data=FORM | {"source": "own", "epochs": "1"},
                            files=upload, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert wait(trainer, run_id) == "finished"
    assert trainer.app.state.runs.get(run_id).extra["class_names"] == ["neg", "pos"]


def test_stop_a_run(trainer):
    run_id = start(trainer, epochs="60", filters="32", dim="64")
    response = trainer.post(f"/text/runs/{run_id}/stop", headers=HX)
    assert response.status_code == 200 and 'id="run-status"' in response.text
    assert wait(trainer, run_id, timeout=20) in ("stopped", "finished")
    plain = trainer.post(f"/text/runs/{run_id}/pause", follow_redirects=False)
    assert plain.status_code == 303


@pytest.mark.parametrize("path", ["/text/runs/nope", "/text/runs/nope/status",
                                  "/text/runs/nope/try?try=hi"])  # fmt: skip
def test_unknown_run_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "There is no text run 'nope'" in error_text(response.text)
