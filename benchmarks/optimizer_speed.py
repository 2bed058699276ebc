"""Per-step training time of MAMGD and AdaExp against Keras's Adam, as ratios.

The network is the paper's MNIST model (784-512 relu-10 softmax, categorical
cross-entropy, batch 128) on synthetic data. All optimizers are timed in the
same process, interleaved round by round (the order rotating), and the median per-step time of
each is divided by Adam's median from the same rounds (and likewise the
minimum, which other processes on a shared machine disturb least).

    python benchmarks/optimizer_speed.py [--rounds 7] [--steps 60] [--json out.json]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from framework_speed import time_runners  # noqa: E402  (one interleaved timing loop)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import mamgd  # noqa: E402

CANDIDATES = {
    "Adam": lambda: keras.optimizers.Adam(1e-3),
    "MAMGD authors_code": lambda: mamgd.MAMGD(1e-3, k=1e-5),
    "MAMGD algorithm6": lambda: mamgd.MAMGD(1e-3, k=1e-5, variant="algorithm6"),
    "AdaExp": lambda: mamgd.AdaExp(1e-3, k=1e-5),
}


def build(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    return model


def time_update_only(rounds, calls=300):
    """Per-call time of ``optimizer.apply`` alone (compiled), same shapes as the network.

    The network step is dominated by the two matrix products, so the full-step
    ratio is close to 1 and noisy; this isolates what the optimizers differ in.
    """
    import tensorflow as tf

    shapes = [(784, 512), (512,), (512, 10), (10,)]
    rng = np.random.default_rng(1)
    grads = [tf.constant(rng.normal(size=s).astype(np.float32) * 1e-2) for s in shapes]
    def compiled_update(optimizer):
        variables = [keras.Variable(rng.normal(size=s).astype(np.float32)) for s in shapes]
        optimizer.build(variables)
        step = tf.function(lambda: optimizer.apply(grads, variables), jit_compile=True)
        step()
        return step

    runners = {name: compiled_update(make()) for name, make in CANDIDATES.items()}
    return time_runners(runners, rounds, calls)


def report(title, per_step, results):
    """Print and collect median and minimum ratios against Adam."""
    adam_median, adam_min = statistics.median(per_step["Adam"]), min(per_step["Adam"])
    print(title)
    print(f"{'optimizer':<20} {'ms':>8} {'ratio (median)':>15} {'ratio (min)':>12}")
    for name, times in per_step.items():
        median = statistics.median(times)
        results.setdefault(name, {})[title] = {
            "ms_median": 1e3 * median,
            "ratio_vs_adam_median": median / adam_median,
            "ratio_vs_adam_min": min(times) / adam_min}
        print(f"{name:<20} {1e3 * median:8.3f} {median / adam_median:15.3f} "
              f"{min(times) / adam_min:12.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=300, help="training steps per round")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.random((128 * args.steps, 784), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, len(x)), 10).astype(np.float32)
    models = {name: build(make()) for name, make in CANDIDATES.items()}
    for model in models.values():  # compile the train step outside the timing
        model.fit(x[:256], y[:256], batch_size=128, epochs=1, verbose=0)

    per_step = {name: [] for name in models}
    names = list(models)
    for round_index in range(args.rounds):
        # Rotate the order every round so no optimizer always runs first.
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            model = models[name]
            start = time.perf_counter()
            model.fit(x, y, batch_size=128, epochs=1, shuffle=False, verbose=0)
            per_step[name].append((time.perf_counter() - start) / args.steps)

    # The median is the typical cost; the minimum is the least disturbed by
    # other processes on a shared machine. Both ratios are reported.
    results = {}
    report("training step (fit, batch 128)", per_step, results)
    report("optimizer update only (apply, XLA)", time_update_only(args.rounds), results)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
