"""dlrun.report.load: one tidy row per run and metric, config columns, seed, status, verdict."""

from test_report import write_run

from dlrun.report import load


def test_one_row_per_run_and_metric_with_config_columns(tmp_path):
    write_run(
        tmp_path / "0",
        ["model=gru", "seed=0", "seq_len=50"],
        "completed",
        {"val/acc": 0.9, "val/loss": 0.3},
        seed=0,
        verdict="val acc 90.00%: solved",
    )
    write_run(
        tmp_path / "1",
        ["model=lstm", "seed=1", "seq_len=50"],
        "failed",
        {},
        seed=1,
        error="out of memory",
    )
    frame = load(tmp_path)
    assert len(frame) == 3  # two metrics of the completed run, one line for the failed one
    done = frame[frame.directory == str(tmp_path / "0")].set_index("metric")
    assert done.loc["val/acc", "value"] == 0.9 and done.loc["val/loss", "model"] == "gru"
    assert (done.seq_len == 50).all() and (done.seed == 0).all()
    assert done.loc["val/acc", "verdict"] == "val acc 90.00%: solved"
    failed = frame[frame.status == "failed"].iloc[0]
    assert failed.model == "lstm" and failed.error == "out of memory" and failed.isna().metric
    assert frame[frame.metric == "val/acc"].groupby("model").value.mean().loc["gru"] == 0.9
