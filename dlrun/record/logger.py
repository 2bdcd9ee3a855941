"""Where a run's numbers go besides its CSV files: the `logger` config group.

RunRecord hands every number it writes to its logger: `log_steps` the rows of steps.csv,
`log_evaluation` an evaluation's metrics under summary.json's names (`train/loss`, `val/acc`).
logger=csv adds nothing (the CSV files are always written); logger=tensorboard writes them as
TensorBoard scalars into <run dir>/tensorboard/; logger=mlflow into an MLflow tracking store
(<run dir>/mlruns/ by default), with the composed config as the run's parameters.
"""

import json
import os
import socket
import sys
from pathlib import Path
from time import time
from urllib.parse import urlparse

import pandas as pd

from dlrun.errors import InputError
from dlrun.record.atomic import check_writable_directory
from dlrun.record.identity import flatten

# steps.csv's columns that become per-step scalars, as step/<column>
STEP_COLUMNS = ("loss", "grad_norm", "lr")
_files_opened = 0  # numbers this process's event files, as tensorboard's writers do


class CsvLogger:
    """logger=csv (the default): the run record's metrics.csv and steps.csv, nothing more."""

    def __init__(self, run_dir: Path | None = None) -> None:
        self.run_dir = run_dir

    def log_steps(self, steps: pd.DataFrame) -> None:
        """Rows of steps.csv (columns step, epoch, loss, grad_norm, lr)."""

    def log_evaluation(self, step: int, metrics: dict[str, float]) -> None:
        """One evaluation's metrics by their flat names, at the step it followed."""

    def log_config(self, config: dict) -> None:
        """The run's composed, resolved config, once, before training."""

    def close(self) -> None:
        """Flush what is pending."""


class TensorBoardLogger(CsvLogger):
    """logger=tensorboard: scalars in TensorBoard's event files (`tensorboard --logdir DIR`).

    Evaluations go under summary.json's names (`val/acc`), the rows of steps.csv under
    `step/loss`, `step/grad_norm`, `step/lr`, each at its optimizer step, flushed at every
    evaluation. One event holds a step's values, written in this thread: about 11 µs a step,
    against ~30 µs through tensorboard's queued EventFileWriter and ~70 µs for three
    SummaryWriter.add_scalar calls (benchmarks/logger_overhead.py). The file starts with a
    session-start marker at its first step, so a run resumed from a checkpoint hides what the
    killed run logged after that checkpoint instead of showing those steps twice.
    """

    def __init__(self, run_dir: Path, *, subdir: str) -> None:
        super().__init__(run_dir)
        try:
            from tensorboard.compat.proto import event_pb2, summary_pb2
            from tensorboard.summary.writer.record_writer import RecordWriter
        except ImportError:
            raise InputError(
                "logger=tensorboard needs the tensorboard package: pip install 'dlrun[tensorboard]'"
            ) from None
        self.event_pb2, self.summary_pb2, self.record_writer = event_pb2, summary_pb2, RecordWriter
        self.directory = Path(run_dir) / subdir
        check_writable_directory(self.directory, "logger.subdir", subdir)  # before training
        self.writer = None

    def open(self, step: int, wall_time: float) -> None:
        """A new event file, named as TensorBoard's own writers name theirs."""
        global _files_opened
        _files_opened += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(wall_time)}.{socket.gethostname()}.{os.getpid()}"
        self.writer = self.record_writer(open(self.directory / f"{name}.{_files_opened}", "wb"))
        Event, SessionLog = self.event_pb2.Event, self.event_pb2.SessionLog
        self.writer.write(
            Event(wall_time=wall_time, file_version="brain.Event:2").SerializeToString()
        )
        start = SessionLog(status=SessionLog.START)
        self.writer.write(
            Event(step=step, wall_time=wall_time, session_log=start).SerializeToString()
        )

    def write(self, step: int, values: dict[str, float], wall_time: float) -> None:
        if self.writer is None:
            self.open(step, wall_time)
        Value = self.summary_pb2.Summary.Value
        summary = self.summary_pb2.Summary(
            value=[Value(tag=tag, simple_value=value) for tag, value in values.items()]
        )
        event = self.event_pb2.Event(step=step, wall_time=wall_time, summary=summary)
        self.writer.write(event.SerializeToString())

    def log_steps(self, steps: pd.DataFrame) -> None:
        now = time()
        columns = [(f"step/{name}", steps[name].tolist()) for name in STEP_COLUMNS]
        for row, step in enumerate(steps["step"].tolist()):
            self.write(step, {tag: values[row] for tag, values in columns}, now)

    def log_evaluation(self, step: int, metrics: dict[str, float]) -> None:
        self.write(step, {name: float(value) for name, value in metrics.items()}, time())
        self.writer.flush()  # a TensorBoard watching the run sees each evaluation

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def flatten_config(config: dict) -> dict[str, str]:
    """{'model': {'hidden': [64, 64]}} -> {'model.hidden': '[64, 64]'}: keys as overrides
    spell them, values as JSON (null, true, lists)."""
    return {
        name: value if isinstance(value, str) else json.dumps(value, default=str)
        for name, value in flatten(config).items()
    }


def run_status(raised: type[BaseException] | None) -> str:
    """The MLflow status of a run that ended raising `raised` (None: it did not)."""
    if raised is None:
        return "FINISHED"
    return "KILLED" if issubclass(raised, KeyboardInterrupt) else "FAILED"


def in_chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# what MLflow's tracking client opens: a folder (a path or file:), a database through
# sqlalchemy, a tracking server, Databricks
TRACKING_SCHEMES = (
    "",
    "file",
    "sqlite",
    "postgresql",
    "mysql",
    "mssql",
    "http",
    "https",
    "databricks",
)


def check_tracking_uri(uri: str) -> None:
    """A tracking URI whose scheme MLflow opens; a folder store that can be written."""
    parsed = urlparse(uri)
    scheme = parsed.scheme.split("+")[0]  # postgresql+psycopg2://
    if scheme not in TRACKING_SCHEMES:
        raise InputError(
            f"logger.tracking_uri={uri}: MLflow does not open {parsed.scheme}: URIs; allowed: "
            "a folder (a path or file:///...), sqlite:///..., postgresql://..., mysql://..., "
            "http(s)://host:port, databricks"
        )
    if scheme in ("", "file"):
        folder = Path(parsed.path if scheme == "file" else uri).expanduser()
        check_writable_directory(folder, "logger.tracking_uri", uri)


class MlflowLogger(CsvLogger):
    """logger=mlflow: metrics in an MLflow tracking store, read with mlflow's client or UI.

    Evaluations go under summary.json's names (`val/acc`), the rows of steps.csv under
    `step/loss`, `step/grad_norm`, `step/lr`, each at its optimizer step; the parameters are the
    flattened composed config (`model.hidden`). Steps are kept in memory and sent in batches at
    each evaluation, so the training loop never waits on the store. Each start of the run
    (a resumed one too) is one MLflow run, named after the run directory.
    """

    def __init__(
        self, run_dir: Path, *, tracking_uri: str | None, subdir: str, experiment: str
    ) -> None:
        super().__init__(run_dir)
        try:
            from mlflow.entities import Metric, Param, RunTag
            from mlflow.exceptions import MlflowException
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise InputError(
                "logger=mlflow needs the mlflow-skinny package: pip install 'dlrun[mlflow]'"
            ) from None
        self.Metric, self.Param, self.RunTag = Metric, Param, RunTag
        self.MlflowException = MlflowException
        if tracking_uri is None:
            check_writable_directory(Path(run_dir) / subdir, "logger.subdir", subdir)
            tracking_uri = (Path(run_dir) / subdir).resolve().as_uri()
        else:
            check_tracking_uri(str(tracking_uri))
        if urlparse(tracking_uri).scheme in ("", "file"):
            # MLflow 3 keeps its file store but refuses it unless asked: a folder of files
            # needs no database server (or sqlalchemy, which mlflow-skinny lacks)
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.tracking_uri, self.experiment = tracking_uri, experiment
        try:
            self.client = MlflowClient(tracking_uri=tracking_uri)
        except Exception as error:  # noqa: BLE001 - MLflow's own, or a missing store plugin
            reason = " ".join(str(error).split()[:20]) or type(error).__name__
            raise InputError(
                f"logger.tracking_uri={tracking_uri}: MLflow cannot open it: {reason}"
            ) from None
        self.run_id: str | None = None
        self.pending: list = []  # Metric entities not yet sent

    def experiment_id(self) -> str:
        """The experiment's id, created the first time."""
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(self.experiment)
        except self.MlflowException:  # another job of a parallel sweep created it just now
            found = self.client.get_experiment_by_name(self.experiment)
            if found is None:
                raise
            return found.experiment_id

    def start(self, params: dict[str, str]) -> None:
        """The MLflow run, with its parameters."""
        try:
            run = self.client.create_run(self.experiment_id(), run_name=Path(self.run_dir).name)
        except (self.MlflowException, OSError) as error:
            raise InputError(
                f"logger.tracking_uri={self.tracking_uri}: MLflow cannot open it: {error}"
            ) from None
        self.run_id = run.info.run_id
        entities = [self.Param(key, value) for key, value in params.items()]
        tags = [self.RunTag("dlrun.run_dir", str(Path(self.run_dir).resolve()))]
        for chunk in in_chunks(entities, 100):  # MLflow takes 100 parameters per batch
            self.client.log_batch(self.run_id, params=chunk, tags=tags)

    def log_config(self, config: dict) -> None:
        self.start(flatten_config(config))

    def log_steps(self, steps: pd.DataFrame) -> None:
        now = int(time() * 1000)
        for name in STEP_COLUMNS:
            tag = f"step/{name}"
            self.pending += [
                self.Metric(tag, value, now, step)
                for value, step in zip(steps[name].tolist(), steps["step"].tolist())
            ]

    def log_evaluation(self, step: int, metrics: dict[str, float]) -> None:
        now = int(time() * 1000)
        self.pending += [self.Metric(name, float(v), now, step) for name, v in metrics.items()]
        self.flush()

    def flush(self) -> None:
        if self.run_id is None:
            self.start({})
        for chunk in in_chunks(self.pending, 1000):  # MLflow's limit per batch
            self.client.log_batch(self.run_id, metrics=chunk)
        self.pending = []

    def close(self) -> None:
        if self.run_id is not None:
            self.flush()
            # run.py closes the logger in a `finally`: an exception on its way out is the run's
            self.client.set_terminated(self.run_id, run_status(sys.exc_info()[0]))
            self.run_id = None
