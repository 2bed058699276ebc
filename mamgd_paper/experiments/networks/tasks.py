"""The paper's neural-network protocol as data: Tables 7-11 as five :class:`Task`.

Each table is one :class:`Task`: a frozen description of the authors' protocol
(model, data preparation, loss, metrics, epochs, batch size, the optimizers with
their arguments, the figure's y limits) and the prose fields its notebook is
written from (:mod:`mamgd_paper.experiments.networks.describe`), checked
against docs/protocol.md, section 4 by ``tests/experiments/test_networks.py`` and
``tests/project/test_docs.py``. :data:`TASKS` holds the five by table number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from mamgd_paper.experiments.networks.data import (approximation_data, prepare_approximation,
                                                   prepare_boston_housing, prepare_imdb,
                                                   prepare_mnist, prepare_reuters)
from mamgd_paper.paper import registry

#: Learning rate of every optimizer in Tables 7-11 (MAMGD and the baselines).
LEARNING_RATE = 1e-3
#: Epochs and data subsets of ``quick`` (smoke-test) mode.
QUICK_EPOCHS = 2
QUICK_SEEDS = 1


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer column of a table: its label and its arguments.

    ``name`` is a label of :mod:`mamgd_paper.paper.registry` (which knows how to build
    it); ``kwargs`` are its arguments as ``(name, value)`` pairs, at least
    ``learning_rate`` (Keras defaults for everything not listed; ``k`` is
    ignored by optimizers that do not decay).
    """

    name: str
    kwargs: tuple = ()

    @property
    def arguments(self):
        return dict(self.kwargs)

    @property
    def cls(self):
        """The Keras class's name (``"MAMGD"``, ``"Adam"``, ...)."""
        return registry.get(self.name).keras_name

    def build(self):
        """A fresh optimizer instance."""
        arguments = self.arguments
        learning_rate = arguments.pop("learning_rate")
        k = arguments.pop("k", None)
        return registry.keras_optimizer(self.name, learning_rate, k, **arguments)


def mamgd_spec(k):
    """MAMGD as in the authors' notebook: lr 1e-3, decay ``k``, their code's rule."""
    return OptimizerSpec(
        registry.MAMGD,
        (("learning_rate", LEARNING_RATE), ("k", k), ("variant", "authors_code")),
    )


def baseline_specs(*names):
    """Keras's built-in optimizers at lr 1e-3 and Keras defaults otherwise."""
    return tuple(OptimizerSpec(name, (("learning_rate", LEARNING_RATE),)) for name in names)



@dataclass(frozen=True)
class Dense:
    """One ``keras.layers.Dense`` layer."""

    units: int
    activation: str | None = None



@dataclass(frozen=True)
class Task:
    """One of the paper's Tables 7-11: the protocol as data.

    ``load(data_dir)`` returns the raw data (what ``keras.datasets.<name>
    .load_data`` returns, or the generated approximation data) and
    ``prepare(raw, quick)`` turns it into a :class:`TaskData`; ``quick`` keeps
    small subsets for smoke runs.
    """

    table: int
    slug: str
    title: str
    dataset: str | None
    load_kwargs: tuple
    input_dim: int
    layers: tuple
    loss: str
    metrics: tuple
    epochs: int
    batch_size: int
    optimizers: tuple
    prepare: Callable = field(compare=False, repr=False)
    ylim: tuple | None = None
    heldout_metric: str = "loss"
    higher_is_better: bool = False
    protocol: str = ""
    heldout: str = ""
    #: Seeds of a run when none is asked for (``make`` without ``SEEDS``): what
    #: the budget of ``make reproduce`` allows (docs/protocol.md, section 4).
    seeds: int = 20
    # The prose of the task's notebook (notebooks/network_task.py), put together
    # by :func:`mamgd_paper.experiments.networks.describe.describe` with the
    # protocol fields above.
    #: Heading, e.g. "IMDB movie reviews" (default: ``title``).
    subject: str = ""
    #: What the paper trained on; completes "The paper trains ... on <paper_data>".
    paper_data: str = ""
    #: The rest of the paper's protocol (its validation split, if any).
    paper_note: str = ""
    #: Training rows of the paper's protocol (updates per epoch = rows / batch).
    train_size: int = 0
    #: What a smoke run (``quick=True``) keeps of the data.
    quick_data: str = ""
    #: Remarks on the published numbers against our seed band.
    comparison_note: str = ""
    #: Remarks on the figure's y limits (the paper's, or none).
    ylim_note: str = ""
    #: What the second (held-out) figure shows.
    heldout_figure: str = ""
    #: Remarks on the held-out summary (which numbers are honest).
    summary_note: str = ""
    #: The notebook succeeds without the data file and says the table was not run.
    allow_missing: bool = False

    @property
    def figure(self):
        """The paper's figure number (the same as the table's)."""
        return self.table

    @property
    def stem(self):
        return f"table{self.table:02d}"

    @property
    def seeds_stem(self):
        """File stem of every seed's history: ``tableNN_seeds``."""
        return f"{self.stem}_seeds"

    @property
    def verdicts_stem(self):
        """File stem of the published numbers against our seed band (the report reads it)."""
        return f"{self.stem}_verdicts"

    @property
    def summary_stem(self):
        return f"{self.stem}_summary"

    @property
    def status_stem(self):
        """File stem of what was run, or why not (the report reads it)."""
        return f"{self.stem}_status"

    @property
    def figure_stem(self):
        return f"fig{self.table:02d}_{self.slug}"

    @property
    def optimizer_names(self):
        return [spec.name for spec in self.optimizers]

    def optimizer(self, name):
        for spec in self.optimizers:
            if spec.name == name:
                return spec
        raise KeyError(f"Table {self.table} has no optimizer {name!r}.")

    @property
    def k(self):
        """MAMGD's decay rate in this table."""
        return self.optimizer(registry.MAMGD).arguments["k"]

    def build_model(self):
        """A fresh Keras Sequential of the paper's Dense layers (new random weights)."""
        import keras

        return keras.Sequential(
            [keras.Input(shape=(self.input_dim,))]
            + [keras.layers.Dense(layer.units, activation=layer.activation)
               for layer in self.layers]
        )

    def load(self, data_dir=None):
        """The raw data: ``keras.datasets`` arrays via :mod:`mamgd_paper.datasets.loaders`."""
        if self.dataset is None:
            return approximation_data()
        from mamgd_paper.datasets import loaders

        return loaders.load(self.dataset, data_dir, **dict(self.load_kwargs))

    def is_available(self, data_dir=None):
        """True when the data can be loaded now (downloading it if needed).

        Returns ``(available, reason, detail)``: ``reason`` is a short,
        machine-independent phrase (empty when available), ``detail`` the
        loader's full message.
        """
        if self.dataset is None:
            return True, "", ""
        from mamgd_paper.datasets import files

        try:
            files.fetch(self.dataset, data_dir)
        except files.DatasetUnavailableError as error:
            fname = files.REGISTRY[self.dataset].fname
            return False, (f"{fname} not available (not in the data folder and not "
                           f"downloadable; `make data` on a connected machine "
                           f"fetches it)"), str(error)
        return True, "", ""

    def columns(self, with_test):
        """Per-epoch columns of a run: training loss and metrics, then held-out."""
        train = ["loss", *self.metrics]
        columns = train + [f"val_{name}" for name in train]
        if with_test:
            columns += [f"test_{name}" for name in train]
        return columns



APPROXIMATION = Task(
    table=7, slug="approximation",
    title="Approximation of y = x^2 + x - 1 by a multilayer network",
    dataset=None, load_kwargs=(), input_dim=1,
    layers=(Dense(64, "relu"), Dense(32, "relu"), Dense(1)),
    loss="mse", metrics=(), epochs=15, batch_size=32,
    optimizers=(mamgd_spec(1e-4),) + baseline_specs(registry.ADAM, registry.ADAGRAD,
                                                     registry.RMSPROP, registry.SGD),
    prepare=prepare_approximation, ylim=(0.0, 2.5),
    heldout_metric="loss", higher_is_better=False,
    protocol="10000 evenly spaced x on [-10, 10], y = x^2 + x - 1; batch 32 (fit's default); "
             "no validation in the paper.",
    heldout="validation = the 9999 midpoints of the training grid (interpolation MSE); "
            "it is also the test set.",
    subject="approximating y = x^2 + x - 1",
    paper_data="10000 evenly spaced points x on [-10, 10] with targets y = x^2 + x - 1",
    paper_note="Its batch size 32 is `fit`'s default; it used no validation data.",
    train_size=10000,
    quick_data="every 10th point of the training and the midpoint grid",
    comparison_note="The first epochs' losses are in the hundreds and vary a lot from run "
                    "to run (the targets reach 109); Adagrad at learning rate 1e-3 barely "
                    "moves and SGD is far from converged after 15 epochs.",
    ylim_note="The first epochs (and Adagrad and SGD throughout) are above the frame, as in "
              "the paper.",
    heldout_figure="the held-out MSE on the midpoint grid",
    summary_note="The 9999 held-out midpoints are both the validation and the test set here.",
)

MNIST = Task(
    table=8, slug="mnist", title="MNIST",
    dataset="mnist", load_kwargs=(), input_dim=784,
    layers=(Dense(512, "relu"), Dense(10, "softmax")),
    loss="categorical_crossentropy", metrics=("accuracy",), epochs=10, batch_size=128,
    optimizers=(mamgd_spec(1e-5),) + baseline_specs(registry.ADAM, registry.RMSPROP),
    prepare=prepare_mnist, ylim=(0.0, 0.5),
    heldout_metric="accuracy", higher_is_better=True,
    protocol="60000 training images flattened to 784, /255, one-hot labels; "
             "no validation in the paper.",
    heldout="validation = the 10000 test images (they are also the test set).",
    seeds=5,
    subject="MNIST",
    paper_data="the 60000 MNIST training images (flattened, scaled to [0, 1], one-hot labels)",
    paper_note="It used no validation data.",
    train_size=60000,
    quick_data="2000 training / 500 test images",
    ylim_note="Epoch 1 of MAMGD is near 0.45.",
    heldout_figure="the held-out (test-image) loss and accuracy",
    summary_note='Here the validation data are the test images, so "best validation" is '
                 "optimistic; the final-epoch number is the honest one.",
)

IMDB = Task(
    table=9, slug="imdb", title="IMDB",
    dataset="imdb", load_kwargs=(("num_words", 10000),), input_dim=10000,
    layers=(Dense(16, "relu"), Dense(16, "relu"), Dense(1, "sigmoid")),
    loss="binary_crossentropy", metrics=("accuracy",), epochs=20, batch_size=512,
    optimizers=(mamgd_spec(1e-3),) + baseline_specs(registry.ADAM, registry.ADAGRAD,
                                                     registry.RMSPROP),
    prepare=prepare_imdb, ylim=None,
    heldout_metric="accuracy", higher_is_better=True,
    protocol="num_words 10000, multi-hot 10000-d; first 10000 training reviews = "
             "validation, the other 15000 = training.",
    heldout="validation = the paper's 10000 reviews; test = the 25000 test reviews.",
    subject="IMDB movie reviews",
    paper_data="IMDB reviews labelled positive or negative, each the multi-hot vector of its "
               "words among the 10000 most frequent",
    paper_note="The first 10000 training reviews are its validation split, the other 15000 "
               "the training data.",
    train_size=15000,
    quick_data="800 training / 200 validation / 500 test reviews",
    heldout_figure="validation loss and accuracy and the test accuracy",
    summary_note="The 25000 test reviews are used for nothing else.",
    allow_missing=True,
)

REUTERS = Task(
    table=10, slug="reuters", title="Reuters",
    dataset="reuters", load_kwargs=(("num_words", 10000),), input_dim=10000,
    layers=(Dense(64, "relu"), Dense(64, "relu"), Dense(46, "softmax")),
    loss="categorical_crossentropy", metrics=("accuracy",), epochs=20, batch_size=512,
    optimizers=(mamgd_spec(1e-4),) + baseline_specs(registry.ADAM, registry.RMSPROP),
    prepare=prepare_reuters, ylim=None,
    heldout_metric="accuracy", higher_is_better=True,
    protocol="num_words 10000, multi-hot 10000-d, 46 classes one-hot; first 1000 "
             "training newswires = validation, the other 7982 = training.",
    heldout="validation = the paper's 1000 newswires; test = the 2246 test newswires.",
    subject="Reuters newswires",
    paper_data="Reuters newswires in 46 topics (one-hot labels), each the multi-hot vector "
               "of its words among the 10000 most frequent",
    paper_note="The first 1000 training newswires are its validation split, the other 7982 "
               "the training data.",
    train_size=7982,
    quick_data="800 training / 200 validation / 500 test newswires",
    heldout_figure="validation loss and accuracy and the test accuracy",
    summary_note="The 2246 test newswires are used for nothing else.",
)

BOSTON_HOUSING = Task(
    table=11, slug="boston_housing", title="Boston housing prices",
    dataset="boston_housing", load_kwargs=(), input_dim=13,
    layers=(Dense(64, "relu"), Dense(64, "relu"), Dense(1)),
    loss="mse", metrics=("mae",), epochs=20, batch_size=1,
    optimizers=(mamgd_spec(1e-6),) + baseline_specs(registry.ADAM, registry.RMSPROP),
    prepare=prepare_boston_housing, ylim=(0.0, 20.0),
    heldout_metric="mae", higher_is_better=False,
    protocol="Keras split 404 / 102; features standardised with the training mean and "
             "std; the paper passed the training data as validation data.",
    heldout="validation = the 102 test houses (the real held-out split; MAE).",
    subject="Boston housing prices",
    paper_data="Keras's 404 training houses, features standardised with the training mean "
               "and standard deviation",
    paper_note="Its `fit` received the *training* data as validation data, so no held-out "
               "number exists.",
    train_size=404,
    quick_data="100 training houses",
    ylim_note="Epoch 1 is far above it.",
    heldout_figure="the test MSE and MAE per epoch",
    summary_note="Here the validation data are the test houses, so the best MAE over the "
                 "epochs is optimistic (it picks the epoch on the test set); the final-epoch "
                 "test MAE is the honest number (in thousands of dollars).",
)

#: The five tasks by table number.
TASKS = {task.table: task for task in (APPROXIMATION, MNIST, IMDB, REUTERS, BOSTON_HOUSING)}
