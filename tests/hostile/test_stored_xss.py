"""Text a student types or uploads is data, never markup: not for them, not for the class.

A label of a student's own corpus, a file name, a sentence: each comes back escaped on every page
that shows it, including the pages other students open (the run list, the run page).
"""

from __future__ import annotations

import io
import wave

import numpy as np
from PIL import Image

from tests.conftest import wait_for_run
from tests.hostile.conftest import XSS, assert_escaped

HX = {"HX-Request": "true"}


def wait(client, run_id: str, timeout: float = 90) -> str:
    return wait_for_run(client, run_id, timeout)


def test_a_corpus_whose_labels_are_markup_stays_text_for_everyone(trainer):
    bad, other = XSS[0], XSS[1][:30]
    lines = [f"{bad},great fine lovely film {i}" for i in range(8)]
    lines += [f"{other},awful dull boring film {i}" for i in range(8)]
    response = trainer.post("/text/runs", data={"source": "own", "corpus": "\n".join(lines),
                                                "epochs": "2"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert wait(trainer, run_id) == "finished"
    pages = [
        trainer.get(f"/text/runs/{run_id}"),  # the run page: try it, the embedding view
        trainer.get(f"/text/runs/{run_id}?try=great+film"),
        trainer.get(f"/text/runs/{run_id}/try?try=awful+film", headers=HX),
        trainer.get(f"/text?run={run_id}&text=great+film"),  # the pipeline with the trained net
        trainer.get("/text"),  # every student's page lists the recent runs
    ]
    for page in pages:
        assert page.status_code == 200, page.text[:300]
        assert_escaped(page.text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[1].text  # shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[3].text


def test_a_built_in_label_is_translated_and_a_students_is_not(trainer):
    lines = [f"negative,great fine lovely film {i}" for i in range(8)]
    lines += [f"zzz,awful dull boring film {i}" for i in range(8)]
    response = trainer.post("/text/runs", data={"source": "own", "corpus": "\n".join(lines),
                                                "epochs": "1"}, follow_redirects=False)  # fmt: skip
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert wait(trainer, run_id) == "finished"
    trainer.cookies.set("lang", "pt_BR")
    own = trainer.get(f"/text/runs/{run_id}?try=great+film").text
    builtin = trainer.get("/text?text=great+film").text
    trainer.cookies.clear()
    assert 'data-testid="try-prediction">negative<' in own or "zzz" in own  # as typed
    assert ">negativo<" not in own
    assert "negativo" in builtin or "positivo" in builtin  # the built-in corpus's own names


def wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        tone = (np.sin(np.arange(4000) / 5) * 9000).astype("<i2")
        writer.writeframes(tone.tobytes())
    return buffer.getvalue()


def gif_bytes() -> bytes:
    frames = [Image.fromarray(np.full((16, 16), 40 * t, dtype=np.uint8)) for t in range(4)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=80)
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_file_names_that_are_markup_stay_text(client):
    name = XSS[0]
    sound = client.post("/signals/upload-wav", files={"sound": (f"{name}.wav", wav_bytes())},
                        follow_redirects=True)  # fmt: skip
    video = client.post("/signals/upload-gif", files={"gif": (f"{name}.gif", gif_bytes())},
                        follow_redirects=True)  # fmt: skip
    picture = client.post("/filters/upload", files={"image": (f"{name}.png", png_bytes())},
                          follow_redirects=True)  # fmt: skip
    for page in (sound, video, picture):
        assert page.status_code == 200, page.text[:300]
        assert_escaped(page.text)
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_markup_in_every_echoed_text_field_stays_text(client):
    probe = XSS[0]
    echoed = [
        f"/text?text={probe}",
        f"/filters?sample=dot&f=custom&kernel={probe}",
        f"/pipeline?arch={probe}",
        f"/pipeline?input={probe}",
        f"/train?preset=custom&arch={probe}",
        f"/losses?ys={probe}",
        f"/losses?pts={probe}",
        f"/losses?tosses={probe}",
        f"/signals?xs={probe}",
        f"/optimizers?o1={probe}",
        f"/filters?sample={probe}",
        f"/lang/en?next={probe}",
    ]
    for url in echoed:
        for headers in ({}, {"HX-Request": "true"}):
            page = client.get(url, headers=headers, follow_redirects=True)
            assert page.status_code < 500, url
            assert_escaped(page.text)


def test_gettext_in_a_template_gives_text_not_markup(tmp_path):
    """Even `_()` on a variable (a template's mistake) cannot turn a value into markup."""
    import gettext

    from app.web.templating import make_environment

    (tmp_path / "t.html").write_text('{{ _(value) }}|{{ _("Feature map %(n)s", n=value) }}')
    env = make_environment(tmp_path, gettext.NullTranslations())
    html = env.get_template("t.html").render(value="<img src=x onerror=alert(1)>")
    assert html == ("&lt;img src=x onerror=alert(1)&gt;|"
                    "Feature map &lt;img src=x onerror=alert(1)&gt;")  # fmt: skip
