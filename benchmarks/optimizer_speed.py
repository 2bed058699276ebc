"""Per-step training time of MAMGD and AdaExp against Keras's Adam, as ratios.

The network is the paper's MNIST model (784-512 relu-10 softmax, categorical
cross-entropy, batch 128) on synthetic data. All optimizers are timed in the
same process, interleaved round by round, and the median per-step time of
each is divided by Adam's median from the same rounds.

    python benchmarks/optimizer_speed.py [--rounds 7] [--steps 60] [--json out.json]
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import mamgd  # noqa: E402

CANDIDATES = {  # noqa: E501
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=60, help="training steps per round")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.random((128 * args.steps, 784), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, len(x)), 10).astype(np.float32)
    models = {name: build(make()) for name, make in CANDIDATES.items()}
    for model in models.values():  # compile the train step outside the timing
        model.fit(x[:256], y[:256], batch_size=128, epochs=1, verbose=0)

    per_step = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(x, y, batch_size=128, epochs=1, shuffle=False, verbose=0)
            per_step[name].append((time.perf_counter() - start) / args.steps)

    adam = statistics.median(per_step["Adam"])
    results = {}
    print(f"{'optimizer':<20} {'ms/step':>8} {'ratio vs Adam':>14}")
    for name, times in per_step.items():
        median = statistics.median(times)
        results[name] = {"ms_per_step": 1e3 * median, "ratio_vs_adam": median / adam}
        print(f"{name:<20} {1e3 * median:8.3f} {median / adam:14.3f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
