"""Tests for mamgd_paper.datasets (files, loaders, the fetch command): equality
with Keras, checksums, downloads, CLI.

All offline. The verified files are read from $MAMGD_DATA_DIR, falling back to
the shared fixture folder ../shared/data/keras next to the checkout. Downloads
are exercised against a real HTTP server on 127.0.0.1 (no mocks).
"""

import functools
import hashlib
import http.server
import inspect
import os
import pickle
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from mamgd_paper.datasets import files, loaders
from mamgd_paper.datasets.__main__ import main
from mamgd_paper.datasets.files import ChecksumError, DatasetUnavailableError

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "keras"
DATA_DIR = Path(os.environ.get("MAMGD_DATA_DIR") or SHARED).resolve()
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def data_file(fname):
    """A verified file from DATA_DIR, or skip when this machine lacks it."""
    path = DATA_DIR / fname
    if not path.is_file():
        pytest.skip(f"{fname} not in {DATA_DIR} (set MAMGD_DATA_DIR)")
    return path


def side_file(fname):
    """SHA256SUMS / MNIST_ARRAYS_SHA256, from DATA_DIR or the shared folder."""
    for folder in (DATA_DIR, SHARED):
        if (folder / fname).is_file():
            return folder / fname
    pytest.skip(f"{fname} not found")


def read_sums(fname):
    """{name: sha256} from a 'sha256  name ...' file."""
    sums = {}
    for line in side_file(fname).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()[:2]
            sums[name] = digest
    return sums


def assert_same(ours, theirs):
    """((x, y), (x, y)) tuples equal array for array, dtype and ragged rows too."""
    for a, b in zip((*ours[0], *ours[1]), (*theirs[0], *theirs[1])):
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype == object:
            assert all(list(r) == list(s) for r, s in zip(a, b))
        else:
            np.testing.assert_array_equal(a, b)


def closed_port_url():
    """An http:// origin on which nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing-here/"


@pytest.fixture(autouse=True)
def _no_proxy_no_origin(monkeypatch):
    # Local URLs must not go through a proxy, and no external origin leaks in.
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    monkeypatch.delenv(files.ORIGIN_ENV, raising=False)


@pytest.fixture(scope="module")
def mnist():
    """MNIST loaded once per test session (~50 MB)."""
    data_file("mnist.npz")
    return loaders.load("mnist", DATA_DIR, download=False)


@pytest.fixture
def server(tmp_path):
    """A real HTTP server; yields (folder it serves, its URL, requested paths)."""
    root = tmp_path / "www"
    served = root / "files"
    served.mkdir(parents=True)
    log = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_request(self, code="-", size="-"):  # once per request
            log.append(self.path)

        def log_message(self, fmt, *args):  # keep the test output quiet
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{httpd.server_address[1]}/files/", log
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------
# Registry and directory resolution


def test_registry_hashes_are_keras_own():
    """Our file names, origins and sha256 are the ones in Keras's loaders."""
    import keras

    for name, entry in files.REGISTRY.items():
        source = inspect.getsource(getattr(keras.datasets, name).load_data)
        assert entry.sha256 in source and entry.fname in source, name
        assert files.KERAS_ORIGIN_BASE in source
        assert entry.origin == files.KERAS_ORIGIN_BASE + entry.fname


def test_registry_matches_shared_checksum_files():
    sums = read_sums("SHA256SUMS")
    for name in ("reuters", "boston_housing"):
        assert sums[files.REGISTRY[name].fname] == files.REGISTRY[name].sha256
    arrays = read_sums("MNIST_ARRAYS_SHA256")
    assert {a.key: a.sha256 for a in files.REGISTRY["mnist"].arrays} == arrays


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv(files.DATA_DIR_ENV, raising=False)
    assert files.resolve_data_dir() == REPO / "data"
    monkeypatch.setenv(files.DATA_DIR_ENV, str(tmp_path / "env"))
    assert files.resolve_data_dir() == tmp_path / "env"
    assert files.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown dataset"):
        loaders.load("cifar10", DATA_DIR)
    with pytest.raises(TypeError, match="data_dir"):
        loaders.load("reuters", DATA_DIR, path="/tmp/reuters.npz")
    with pytest.raises(TypeError, match="mnist takes no options"):
        loaders.load("mnist", DATA_DIR, num_words=10)


# --------------------------------------------------------------------------
# Same arrays as Keras


KERAS_CASES = [
    ("reuters", {}),
    ("reuters", {"num_words": 10000}),
    ("reuters", {"num_words": 10000, "skip_top": 20, "maxlen": 200,
                 "test_split": 0.3, "seed": 7}),
    ("boston_housing", {}),
    ("boston_housing", {"test_split": 0.1, "seed": 42}),
]


def test_equals_unmodified_keras_load_data(tmp_path):
    """Compare with Keras's own load_data, run as a user would run it.

    Keras 3 rejects a directory in ``path=``, so the reference runs in a fresh
    process with KERAS_HOME pointing at a copy of the files in its cache layout.
    Proxies point at a closed port, so a download attempt would fail: the output
    also shows that Keras accepted the files (hash match) without downloading.
    """
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    for name in {name for name, _ in KERAS_CASES}:
        fname = files.REGISTRY[name].fname
        shutil.copy(data_file(fname), cache / fname)
    script = textwrap.dedent("""
        import pickle, sys, keras
        cases = pickle.loads(bytes.fromhex(sys.argv[1]))
        out = [getattr(keras.datasets, n).load_data(**kw) for n, kw in cases]
        with open(sys.argv[2], "wb") as f:
            pickle.dump(out, f)
    """)
    closed = closed_port_url()
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras_home"),
           **{v: closed for v in ("http_proxy", "https_proxy",
                                  "HTTP_PROXY", "HTTPS_PROXY")}}
    result = tmp_path / "keras.pkl"
    proc = subprocess.run(
        [sys.executable, "-c", script, pickle.dumps(KERAS_CASES).hex(), str(result)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Downloading" not in proc.stdout + proc.stderr
    with open(result, "rb") as f:
        theirs = pickle.load(f)
    for (name, kwargs), reference in zip(KERAS_CASES, theirs):
        assert_same(loaders.load(name, DATA_DIR, download=False, **kwargs), reference)
    # Keras added nothing to its cache and replaced nothing in it.
    assert sorted(p.name for p in cache.iterdir()) == ["boston_housing.npz", "reuters.npz"]
    for p in cache.iterdir():
        assert p.read_bytes() == (DATA_DIR / p.name).read_bytes()


def test_mnist_equals_numpy_and_official_digests(mnist):
    with np.load(data_file("mnist.npz"), allow_pickle=False) as f:
        plain = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    assert_same(mnist, plain)
    digests = read_sums("MNIST_ARRAYS_SHA256")
    (x_train, y_train), (x_test, y_test) = mnist
    for key, arr in zip(("x_train", "y_train", "x_test", "y_test"),
                        (x_train, y_train, x_test, y_test)):
        assert arr.dtype == np.uint8
        assert hashlib.sha256(arr.tobytes()).hexdigest() == digests[key]
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)


def test_available_files_are_available():
    for name in ("mnist", "reuters", "boston_housing"):
        data_file(files.REGISTRY[name].fname)
        assert files.is_available(name, DATA_DIR)


# --------------------------------------------------------------------------
# Corrupted files are never loaded


def corrupt_copy(src, dst, how):
    data = bytearray(src.read_bytes())
    if how == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) * 3 // 4:]
    dst.write_bytes(bytes(data))
    return bytes(data)


@pytest.mark.parametrize("how", ["flip", "truncate"])
@pytest.mark.parametrize("name", ["boston_housing", "reuters", "mnist"])
def test_corrupted_file_raises_checksum_error(tmp_path, name, how):
    entry = files.REGISTRY[name]
    target = tmp_path / entry.fname
    written = corrupt_copy(data_file(entry.fname), target, how)
    with pytest.raises(ChecksumError) as info:
        loaders.load(name, tmp_path)
    message = str(info.value)
    assert str(target) in message and "Checksum failed" in message
    assert entry.sha256 in message
    assert hashlib.sha256(written).hexdigest() in message
    assert "make data" in message and "Delete it" in message
    assert isinstance(info.value, ValueError)
    assert target.read_bytes() == written  # not replaced, not removed
    assert not files.is_available(name, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [entry.fname]


def test_mnist_repack_accepted_by_array_digests_and_tampering_caught(tmp_path, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    np.savez(tmp_path / "mnist.npz", **arrays)  # other zip bytes, same arrays
    assert files.is_available("mnist", tmp_path)
    assert_same(loaders.load("mnist", tmp_path), mnist)

    tampered = x_train.copy()
    tampered[0, 0, 0] ^= 1
    np.savez(tmp_path / "mnist.npz", **{**arrays, "x_train": tampered})
    with pytest.raises(ChecksumError, match="array x_train"):
        loaders.load("mnist", tmp_path)


def test_corrupted_file_is_not_replaced_by_download(tmp_path, server):
    served, base, log = server
    shutil.copy(data_file("boston_housing.npz"), served / "boston_housing.npz")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    written = corrupt_copy(served / "boston_housing.npz",
                           data_dir / "boston_housing.npz", "flip")
    with pytest.raises(ChecksumError):
        loaders.load("boston_housing", data_dir, origin_base=base)
    assert (data_dir / "boston_housing.npz").read_bytes() == written
    assert log == []  # no download was even attempted


# --------------------------------------------------------------------------
# Missing files: download or a clear error


def assert_unavailable_message(message, entry, directory, url):
    for part in (entry.fname, entry.sha256, str(directory), url):
        assert part in message, (part, message)


def test_offline_message(tmp_path):
    origin = closed_port_url()
    entry = files.REGISTRY["reuters"]
    with pytest.raises(DatasetUnavailableError) as info:
        loaders.load("reuters", tmp_path, origin_base=origin)
    assert isinstance(info.value, FileNotFoundError)
    assert_unavailable_message(str(info.value), entry, tmp_path, origin + entry.fname)
    assert entry.origin in str(info.value)  # Keras's own URL is named too
    assert list(tmp_path.iterdir()) == []


def test_origin_from_environment(tmp_path, monkeypatch):
    origin = closed_port_url()
    monkeypatch.setenv(files.ORIGIN_ENV, origin)
    with pytest.raises(DatasetUnavailableError, match="nothing-here/boston_housing.npz"):
        files.fetch("boston_housing", tmp_path)


def test_download_good_file(tmp_path, server):
    served, base, log = server
    shutil.copy(data_file("reuters.npz"), served / "reuters.npz")
    data_dir = tmp_path / "data" / "new"  # created on demand
    ours = loaders.load("reuters", data_dir, origin_base=base, num_words=10000)
    assert log == ["/files/reuters.npz"]
    assert [p.name for p in data_dir.iterdir()] == ["reuters.npz"]
    sha = files.sha256_file(data_dir / "reuters.npz")
    assert sha == files.REGISTRY["reuters"].sha256
    assert (data_dir / "reuters.npz").stat().st_mode & 0o777 == 0o644
    assert_same(ours, loaders.load("reuters", DATA_DIR, num_words=10000, download=False))
    loaders.load("reuters", data_dir, origin_base=base)  # now local: no new request
    assert len(log) == 1


def test_download_corrupted_file_leaves_nothing(tmp_path, server):
    served, base, log = server
    corrupt_copy(data_file("boston_housing.npz"), served / "boston_housing.npz", "flip")
    data_dir = tmp_path / "data"
    with pytest.raises(ChecksumError) as info:
        loaders.load("boston_housing", data_dir, origin_base=base)
    assert base + "boston_housing.npz" in str(info.value)
    assert "nothing was saved" in str(info.value)
    assert not data_dir.exists() or list(data_dir.iterdir()) == []


def test_download_of_a_repacked_mnist_is_accepted(tmp_path, mnist):
    """A file:// origin holding a re-pack of the MNIST arrays (other zip bytes)
    is downloaded and accepted by the array digests, as a local re-pack is."""
    (x_train, y_train), (x_test, y_test) = mnist
    origin = tmp_path / "origin"
    origin.mkdir()
    np.savez(origin / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test,
             y_test=y_test)
    data_dir = tmp_path / "data"
    assert_same(loaders.load("mnist", data_dir, origin_base=origin.as_uri()), mnist)
    assert [p.name for p in data_dir.iterdir()] == ["mnist.npz"]
    assert (data_dir / "mnist.npz").read_bytes() == (origin / "mnist.npz").read_bytes()


def test_sha256_file_is_the_plain_sha256(tmp_path):
    path = tmp_path / "bytes.bin"
    path.write_bytes(bytes(range(256)) * 10000)  # several read chunks
    assert files.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_file_in_a_read_only_folder_is_clear(tmp_path, server):
    served, base, log = server
    shutil.copy(data_file("boston_housing.npz"), served / "boston_housing.npz")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(DatasetUnavailableError, match="cannot write there") as info:
            loaders.load("boston_housing", folder, origin_base=base)
        assert_unavailable_message(str(info.value), files.REGISTRY["boston_housing"],
                                   folder, base + "boston_housing.npz")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_download_404(tmp_path, server):
    served, base, log = server
    data_dir = tmp_path / "data"
    entry = files.REGISTRY["boston_housing"]
    with pytest.raises(DatasetUnavailableError) as info:
        loaders.load("boston_housing", data_dir, origin_base=base)
    assert "404" in str(info.value)
    assert_unavailable_message(str(info.value), entry, data_dir, base + entry.fname)
    assert log == ["/files/boston_housing.npz"]
    assert not data_dir.exists() or list(data_dir.iterdir()) == []


def test_imdb_unavailable_is_clear(tmp_path):
    entry = files.REGISTRY["imdb"]
    assert not files.is_available("imdb", tmp_path)
    origin = closed_port_url()
    with pytest.raises(DatasetUnavailableError) as info:
        loaders.load("imdb", tmp_path, origin_base=origin, num_words=10000)
    assert_unavailable_message(str(info.value), entry, tmp_path, origin + entry.fname)
    with pytest.raises(DatasetUnavailableError, match="downloading was disabled"):
        loaders.load("imdb", tmp_path, download=False)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------
# Command line


def test_cli_fetch(tmp_path, capsys):
    data_dir = tmp_path / "data"
    origin = data_file("reuters.npz").parent  # served as a file:// origin
    data_file("boston_housing.npz")
    file_origin = origin.as_uri() + "/"
    argv = ["fetch", "reuters", "boston_housing", "--data-dir", str(data_dir),
            "--origin-base", file_origin]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "reuters.npz          downloaded" in out
    assert "boston_housing.npz   downloaded" in out
    assert main(argv) == 0
    assert capsys.readouterr().out.count(" ok\n") == 2

    closed = closed_port_url()
    assert main(["fetch", "imdb", "--data-dir", str(data_dir),
                          "--origin-base", closed]) == 0
    assert "imdb.npz             unavailable: " in capsys.readouterr().out

    corrupt_copy(origin / "reuters.npz", data_dir / "reuters.npz", "flip")
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "reuters.npz          CHECKSUM FAILED" in out
    assert "boston_housing.npz   ok" in out

    with pytest.raises(SystemExit):
        main(["fetch", "cifar10"])


def test_cli_module_entry_point():
    data_file("boston_housing.npz")
    proc = subprocess.run(
        [sys.executable, "-m", "mamgd_paper.datasets", "fetch", "boston_housing",
         "--no-download", "--data-dir", str(DATA_DIR)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "boston_housing.npz   ok" in proc.stdout


def test_an_unavailable_file_is_named_by_the_variable_not_the_machine_path(tmp_path, monkeypatch):
    # Messages reach executed notebooks: no absolute path of the machine in them.
    monkeypatch.setenv("MAMGD_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetUnavailableError) as error:
        files.fetch("imdb", download=False)
    message = str(error.value)
    assert "is not in $MAMGD_DATA_DIR and" in message
    assert "copy at $MAMGD_DATA_DIR/imdb.npz" in message
    assert str(tmp_path) not in message
    assert error.value.path == str(tmp_path / "imdb.npz")  # the exception keeps the path
