"""The run directory (dlrun/record.py): whole-file writes, JSON without NaN, checkpoints that
load with weights_only and carry what a resume needs, and directories checked before a run."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from dlrun.errors import InputError
from dlrun.record.files import (
    CHECKPOINT_FILE,
    METRICS_FILE,
    STEPS_FILE,
    SUMMARY_FILE,
    RunRecord,
    check_writable_directory,
    finite_or_none,
    flatten_metrics,
    read_json,
    resume_state,
    write_atomically,
)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("old")

    def write_half_then_fail(temporary: Path) -> None:
        temporary.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomically(path, write_half_then_fail)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_json_has_null_where_python_has_nan_or_infinity(tmp_path):
    content = {"a": math.nan, "b": [1.0, -math.inf], "c": {"d": 2.5}}
    assert finite_or_none(content) == {"a": None, "b": [1.0, None], "c": {"d": 2.5}}
    RunRecord(tmp_path).write_summary(content)
    assert json.loads((tmp_path / SUMMARY_FILE).read_text()) == finite_or_none(content)


def test_metric_names_are_split_slash_name():
    flat = flatten_metrics({"train": {"loss": 0.5}, "val": {"loss": 0.6, "acc": 0.9}})
    assert flat == {"train/loss": 0.5, "val/loss": 0.6, "val/acc": 0.9}


def test_read_json_is_none_for_missing_broken_or_non_object_files(tmp_path):
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "list.json").write_text("[1]")
    (tmp_path / "ok.json").write_text('{"a": 1}')
    assert read_json(tmp_path / "missing.json") is None
    assert read_json(tmp_path / "broken.json") is None
    assert read_json(tmp_path / "list.json") is None
    assert read_json(tmp_path / "ok.json") == {"a": 1}


def test_evaluations_and_steps_are_written_whole_at_each_evaluation(tmp_path):
    record = RunRecord(tmp_path)
    record.add_steps(0, [1, 1], torch.tensor([1.0, 0.5]), torch.tensor([2.0, 1.0]), [0.1, 0.1])
    record.add_evaluation(1, 2, {"train": {"loss": 0.5}, "val": {"loss": 0.7}}, 1.5, 0.1, 0.01)
    metrics = pd.read_csv(tmp_path / METRICS_FILE)
    assert metrics[["epoch", "step", "split", "loss"]].values.tolist() == [
        [1, 2, "train", 0.5],
        [1, 2, "val", 0.7],
    ]
    steps = pd.read_csv(tmp_path / STEPS_FILE)
    assert steps["step"].tolist() == [1, 2] and steps["loss"].tolist() == [1.0, 0.5]
    assert record.last_lr == 0.1


def test_a_checkpoint_loads_with_weights_only_and_carries_the_resume_state(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    generator = torch.Generator().manual_seed(7)
    RunRecord(tmp_path).save_checkpoint(
        model, optimizer, 3, 12, train_time_s=1.5, **resume_state(generator)
    )
    state = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)
    assert (state["epoch"], state["step"], state["train_time_s"]) == (3, 12, 1.5)
    assert state["threads"] == torch.get_num_threads()
    assert torch.equal(state["model"]["weight"], model.weight.detach())
    continued = torch.Generator().manual_seed(0)
    continued.set_state(state["generator"])
    assert torch.equal(torch.rand(4, generator=continued), torch.rand(4, generator=generator))


def test_a_directory_that_cannot_be_written_is_refused_naming_the_key(tmp_path):
    check_writable_directory(tmp_path / "new" / "run", "hydra.run.dir")
    assert (tmp_path / "new" / "run").is_dir() and not list((tmp_path / "new" / "run").iterdir())
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match=r"hydra.run.dir=.*file is a file"):
        check_writable_directory(tmp_path / "file", "hydra.run.dir")
    with pytest.raises(InputError, match=r"hydra.sweep.dir=/proc/.* cannot be written"):
        check_writable_directory(Path("/proc/dlrun-test"), "hydra.sweep.dir")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def curve() -> Figure:
    figure = Figure()
    figure.subplots().plot([1, 2, 3])
    return figure


class BrokenFigure(Figure):
    """A figure whose savefig dies half-way, as a killed run's would."""

    def savefig(self, path, **options):
        path.write_bytes(PNG_SIGNATURE + b"half")
        raise OSError("disk full")


def files(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_file())


def test_write_figure_writes_a_png_under_its_name_and_nothing_else(tmp_path):
    RunRecord(tmp_path).write_figure("curve.png", curve())
    assert files(tmp_path) == ["curve.png"]
    assert (tmp_path / "curve.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_failed_figure_leaves_the_previous_one_and_no_temporary(tmp_path):
    record = RunRecord(tmp_path)
    record.write_figure("curve.png", curve())
    before = (tmp_path / "curve.png").read_bytes()
    with pytest.raises(OSError, match="disk full"):
        record.write_figure("curve.png", BrokenFigure())
    assert (tmp_path / "curve.png").read_bytes() == before
    assert files(tmp_path) == ["curve.png"]


def test_write_text_replaces_the_file_whole(tmp_path):
    record = RunRecord(tmp_path)
    record.write_text("table.md", "| a |\n|---|\n| 1 |\n")
    record.write_text("table.md", "| b |\n")
    assert (tmp_path / "table.md").read_text() == "| b |\n" and files(tmp_path) == ["table.md"]


def test_the_growing_csvs_equal_a_whole_rewrite_at_every_evaluation(tmp_path):
    """metrics.csv and steps.csv formatted a few rows at a time read back as the whole frames
    written at once would, also when a later evaluation brings a new column."""
    record = RunRecord(tmp_path)
    for epoch in range(1, 5):
        losses = torch.tensor([0.5 / epoch, 0.4 / epoch], dtype=torch.float32)
        record.add_steps(2 * (epoch - 1), [epoch, epoch], losses, losses * 2, [0.1, 0.1])
        metrics = {"train": {"loss": 1.0 / epoch, "acc": 0.5}, "val": {"loss": 1.1 / epoch}}
        if epoch == 3:
            metrics["val"]["acc"] = 0.25  # a column the earlier rows lack
        record.add_evaluation(epoch, 2 * epoch, metrics, 0.3, 0.1, 0.01 * epoch)
        whole = pd.DataFrame(record.evaluations)
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / METRICS_FILE), whole)
        steps = pd.concat(record.step_frames, ignore_index=True)
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / STEPS_FILE), steps)
