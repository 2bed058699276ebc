"""Update-only speed of every implementation against its own framework's Adam.

One process, one run: for Keras (TensorFlow backend, the update compiled with
XLA), PyTorch (``mamgd.torch`` against ``torch.optim.Adam``, CPU), optax
(``mamgd.optax`` against ``optax.adam``, under ``jax.jit``) and NumPy
(``mamgd.reference`` against ``reference.adam``), the time of one optimizer
update of the paper's MNIST network's parameters (784x512, 512, 512x10, 10;
406,282 floats) with fixed gradients. Each framework's optimizers are timed
interleaved, round by round (the order rotating), and each median (and
minimum) per-update time is divided by that framework's Adam's from the same
rounds. Ratios compare within a framework only.

    python benchmarks/framework_speed.py [--rounds 7] [--calls 100] [--json out.json]
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

SHAPES = [(784, 512), (512,), (512, 10), (10,)]


def _arrays(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=s) * scale).astype(np.float32) for s in SHAPES]


def keras_runners():
    import keras
    import tensorflow as tf

    import mamgd

    grads = [tf.constant(g) for g in _arrays(1, 1e-2)]

    def runner(optimizer):
        variables = [keras.Variable(v) for v in _arrays(0)]
        optimizer.build(variables)
        step = tf.function(lambda: optimizer.apply(grads, variables), jit_compile=True)
        step()
        return step

    return {
        "Adam": runner(keras.optimizers.Adam(1e-3)),
        "MAMGD authors_code": runner(mamgd.MAMGD(1e-3, k=1e-5)),
        "MAMGD algorithm6": runner(mamgd.MAMGD(1e-3, k=1e-5, variant="algorithm6")),
        "AdaExp": runner(mamgd.AdaExp(1e-3, k=1e-5)),
    }


def torch_runners():
    import torch

    import mamgd.torch as mt

    grads = [torch.from_numpy(g) for g in _arrays(1, 1e-2)]

    def runner(make):
        params = [torch.from_numpy(v).requires_grad_() for v in _arrays(0)]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        optimizer = make(params)
        optimizer.step()
        return optimizer.step

    return {
        "Adam": runner(lambda p: torch.optim.Adam(p, lr=1e-3)),
        "MAMGD authors_code": runner(lambda p: mt.MAMGD(p, lr=1e-3, k=1e-5)),
        "MAMGD algorithm6": runner(lambda p: mt.MAMGD(p, lr=1e-3, k=1e-5, variant="algorithm6")),
        "AdaExp": runner(lambda p: mt.AdaExp(p, lr=1e-3, k=1e-5)),
    }


def optax_runners():
    import jax
    import optax

    import mamgd.optax as mo

    grads = [jax.numpy.asarray(g) for g in _arrays(1, 1e-2)]

    def runner(optimizer):
        params = [jax.numpy.asarray(v) for v in _arrays(0)]
        state = optimizer.init(params)

        @jax.jit
        def step(params, state):
            updates, state = optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        carry = {"value": step(params, state)}
        jax.block_until_ready(carry["value"])

        def call():
            carry["value"] = step(*carry["value"])
            jax.block_until_ready(carry["value"])

        return call

    return {
        "Adam": runner(optax.adam(1e-3)),
        "MAMGD authors_code": runner(mo.mamgd(1e-3, k=1e-5)),
        "MAMGD algorithm6": runner(mo.mamgd(1e-3, k=1e-5, variant="algorithm6")),
        "AdaExp": runner(mo.adaexp(1e-3, k=1e-5)),
    }


def numpy_runners():
    from mamgd import reference as R

    grads = _arrays(1, 1e-2)

    def runner(optimizer):
        params = _arrays(0)
        states = [optimizer.init(p) for p in params]
        carry = {"params": params, "states": states}

        def call():
            out = [optimizer.update(p, g, s)
                   for p, g, s in zip(carry["params"], grads, carry["states"])]
            carry["params"] = [p for p, _ in out]
            carry["states"] = [s for _, s in out]

        call()
        return call

    return {
        "Adam": runner(R.adam(1e-3)),
        "MAMGD authors_code": runner(R.mamgd(1e-3, k=1e-5)),
        "MAMGD algorithm6": runner(R.mamgd(1e-3, k=1e-5, variant="algorithm6")),
        "AdaExp": runner(R.adaexp(1e-3, k=1e-5)),
    }


FRAMEWORKS = {
    "Keras (TensorFlow, XLA)": keras_runners,
    "PyTorch (CPU)": torch_runners,
    "optax (jax.jit, CPU)": optax_runners,
    "NumPy reference": numpy_runners,
}


def time_runners(runners, rounds, calls):
    per_call = {name: [] for name in runners}
    names = list(runners)
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            for _ in range(calls):
                runners[name]()
            per_call[name].append((time.perf_counter() - start) / calls)
    return per_call


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = {}
    print(f"{'framework':<26} {'optimizer':<20} {'ms/update':>10} {'x Adam (median)':>16} "
          f"{'x Adam (min)':>13}")
    for framework, make in FRAMEWORKS.items():
        try:
            runners = make()
        except ImportError as error:
            print(f"{framework:<26} skipped ({error})")
            continue
        per_call = time_runners(runners, args.rounds, args.calls)
        adam_median, adam_min = statistics.median(per_call["Adam"]), min(per_call["Adam"])
        for name, times in per_call.items():
            median = statistics.median(times)
            row = {"ms_median": 1e3 * median, "ratio_median": median / adam_median,
                   "ratio_min": min(times) / adam_min}
            results.setdefault(framework, {})[name] = row
            print(f"{framework:<26} {name:<20} {row['ms_median']:>10.3f} "
                  f"{row['ratio_median']:>16.2f} {row['ratio_min']:>13.2f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
