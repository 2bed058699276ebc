"""Atomic, deterministic writers of tables and figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mamgd_paper.core import artifacts  # noqa: E402


def test_atomic_path_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("good\n")
    with pytest.raises(RuntimeError):
        with artifacts.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_write_table_formats_like_the_paper(tmp_path):
    frame = pd.DataFrame({"epoch": [2, 4], "MAMGD": [1.9597031, 0.25]})
    csv, tex, md = artifacts.write_table(frame, tmp_path, "t", caption="cap")
    assert csv.read_text() == "epoch,MAMGD\n2,1.959703\n4,0.250000\n"
    assert r"\toprule" in tex.read_text() and "1.959703" in tex.read_text()
    assert "1.959703" in md.read_text()
    assert "2.000000" not in md.read_text()  # the integer epoch stays an integer


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [2, 1, 0.5], label="a")
    ax.legend()
    return fig


def test_saved_figures_are_byte_identical_on_regeneration(tmp_path):
    first = artifacts.save_figure(_figure(), tmp_path / "a", "fig", dpi=50)
    second = artifacts.save_figure(_figure(), tmp_path / "b", "fig", dpi=50)
    for one, two in zip(first, second):
        assert one.read_bytes() == two.read_bytes(), one.name
    plt.close("all")


def test_display_figures_shows_downscaled_pngs_only(tmp_path, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    paths = artifacts.save_figure(_figure(), tmp_path, "fig", dpi=300)
    plt.close("all")
    assert artifacts.display_figures(paths, width=200) == [tmp_path / "fig.png"]
    assert len(shown) == 1 and shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    import io

    assert Image.open(io.BytesIO(shown[0].data)).size[0] <= 200


def test_one_atomic_writer_importable_without_pandas(tmp_path):
    """core.artifacts re-exports core.atomic's writer, which needs only the standard library."""
    import subprocess
    import sys

    from mamgd_paper.core import atomic

    assert artifacts.atomic_path is atomic.atomic_path and artifacts.write_text is atomic.write_text
    code = ("import sys; import mamgd_paper.core.atomic as a; "
            "a.write_text(sys.argv[1], 'x\\n'); "
            "assert not {'pandas', 'numpy'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-S", "-c", code, str(tmp_path / "t.txt")], check=True,
                   cwd=artifacts.__file__.rsplit("/mamgd_paper/", 1)[0], timeout=60)
    assert (tmp_path / "t.txt").read_text() == "x\n"


def test_copy_file_is_atomic_and_gets_the_usual_permissions(tmp_path):
    import os

    from mamgd_paper.core import atomic

    source = tmp_path / "source.bin"
    source.write_bytes(b"\x00\x01new")
    target = tmp_path / "out" / "target.bin"
    assert atomic.copy_file(source, target) == target
    assert target.read_bytes() == b"\x00\x01new"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in target.parent.iterdir()) == ["target.bin"]
