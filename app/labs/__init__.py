"""The labs, one package each, and the one registry that drives the app's routers, the home page's
lesson path and the navigation bar.

A lab's package is named like its `templates/<slug>/` folder and its `static/js/<slug>.js`, and
holds the same few modules where they fit: `routes.py` (HTTP only), `fields.py` (its parameters,
declared once), `views.py` (what its templates get) and `worker.py` (what runs off the request
path). Adding a lab means one new package and one line below. A lab never imports another lab:
what several share lives in app.web, app.media or app.runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from app.web.i18n import N_


@dataclass(frozen=True)
class Lab:
    slug: str  # the package, its templates/ folder and its static/js/ file
    title: str  # msgid, in the navigation bar
    path: str  # its page
    lesson: int  # its number on the lesson path
    teaches: str | None  # msgid of its card on the home page; None: it shares the previous card
    card_title: str | None = None  # msgid, when the card names more than this lab

    @property
    def router(self):
        """The lab's routes (imported when the app is built, so a worker process that imports
        a lab's worker module does not load the web app)."""
        return importlib.import_module(f"app.labs.{self.slug}.routes").router


LABS = (
    Lab("filters", N_("Filters"), "/filters", 1, N_(
        "Convolve a photo with a kernel: stride, padding, dilation and C×K×K filters, with every "
        "output number explained.")),
    Lab("pooling", N_("Pooling"), "/pooling", 2, N_(
        "Max and average pooling, translation invariance, and how a CNN's layers shrink space "
        "and grow channels."), card_title=N_("Pooling & pipeline")),
    Lab("pipeline", N_("Pipeline"), "/pipeline", 2, None),
    Lab("training", N_("Training"), "/train", 3, N_(
        "Train a tiny CNN live, with batch norm and data augmentation, and look inside it.")),
    Lab("text", N_("Text"), "/text", 4, N_(
        "Tokenization, padding and truncating, embeddings, and 1-D convolution over words.")),
    Lab("signals", N_("Signals"), "/signals", 5, N_(
        "Convolution you can hear (audio echo and reverb) and watch (video, 3-D).")),
    Lab("losses", N_("Losses"), "/losses", 6, N_(
        "MSE, maximum likelihood, and binary and categorical cross-entropy.")),
    Lab("optimizers", N_("Optimizers"), "/optimizers", 7, N_(
        "Gradient descent, SGD, momentum, schedules, AdaGrad, RMSProp and Adam on loss "
        "surfaces.")),
)  # fmt: skip
