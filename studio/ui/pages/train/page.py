"""Train: the classifier's parameters and layers, the anomaly block, loss and accuracy curves
drawn epoch by epoch while training runs, and the runs table to compare runs and choose the
one to deploy. Settings are saved in the project as they change."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.dsp import features
from studio.errors import StudioError
from studio.learn import blocks, layers, runs, train
from studio.learn.metrics import percent
from studio.project import Project
from studio.project.config import CONFIG_FILE
from studio.ui import theme
from studio.ui.live_plot import PALETTE
from studio.ui.metrics_views import ClassTable, ConfusionTable
from studio.ui.pages.train.layer_editor import LayerEditor
from studio.ui.param_form import ParamForm

RUN_COLUMNS = ("run", "dsp", "int8", "epochs", "float", "int8 acc", "int8 bytes", "sparsity", "deploy")


class TrainPage(QWidget):
    log = Signal(str)

    def __init__(self, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.project: Project | None = None
        self.job = None
        self.live_curves: dict[str, list[float]] = {}
        self._loading = False
        self._build()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.params = ParamForm()
        self.params.changed.connect(self.save_settings)
        self.layer_editor = LayerEditor()
        self.layer_editor.changed.connect(self.save_settings)
        self.anomaly_check = QCheckBox("Anomaly detection (K-means)")
        self.anomaly_check.setToolTip(blocks.ANOMALY.summary)
        self.anomaly_check.toggled.connect(self._anomaly_toggled)
        self.anomaly_params = ParamForm()
        self.anomaly_params.changed.connect(self.save_settings)
        self.anomaly_params.setEnabled(False)
        self.settings_message = QLabel("")
        self.settings_message.setWordWrap(True)
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train, quantize to int8 and test both on the testing set (a new run)")
        self.train_button.clicked.connect(self.start_training)
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.setToolTip("Stop training and keep the best model so far")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_training)

        settings = QVBoxLayout()
        box = QGroupBox("Classifier")
        form_layout = QVBoxLayout(box)
        form_layout.addWidget(self.params)
        settings.addWidget(box)
        layers_box = QGroupBox("Layers")
        QVBoxLayout(layers_box).addWidget(self.layer_editor)
        settings.addWidget(layers_box)
        anomaly_box = QGroupBox("Anomaly")
        anomaly_layout = QVBoxLayout(anomaly_box)
        anomaly_layout.addWidget(self.anomaly_check)
        anomaly_layout.addWidget(self.anomaly_params)
        settings.addWidget(anomaly_box)
        settings.addStretch(1)
        inner = QWidget()
        inner.setLayout(settings)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to its inputs, which it scrolls into view
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button, 1)
        buttons.addWidget(self.cancel_button)
        left = QVBoxLayout()
        left.addWidget(scroll, 1)
        left.addWidget(self.settings_message)
        left.addLayout(buttons)
        left_w = QWidget()
        left_w.setLayout(left)
        left_w.setMinimumWidth(380)
        left_w.setMaximumWidth(460)

        self.loss_plot = theme.plot_widget(title="loss")
        self.acc_plot = theme.plot_widget(title="accuracy")
        for p in (self.loss_plot, self.acc_plot):
            p.setMenuEnabled(False)
            p.setLabel("bottom", "epoch")
            theme.add_legend(p)
        self.acc_plot.setYRange(0, 1.02)
        self.summary = QLabel("No run yet.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confusion = ConfusionTable()
        self.classes = ClassTable()
        self.runs_table = QTableWidget(0, len(RUN_COLUMNS))
        self.runs_table.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.runs_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.runs_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_table.verticalHeader().hide()
        self.runs_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs_table.setToolTip("Select runs to compare their curves; the first selected shows its results")
        self.runs_table.itemSelectionChanged.connect(self._runs_selected)
        self.choose_button = QPushButton("Use for deployment")
        self.choose_button.setToolTip("Deploy and test this run by default")
        self.choose_button.clicked.connect(self.choose_selected)

        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        plots_w = QWidget()
        plots_w.setLayout(plots)
        results = QHBoxLayout()
        results.addWidget(self.confusion, 1)
        results.addWidget(self.classes, 1)
        results_w = QWidget()
        results_w.setLayout(results)
        runs_row = QHBoxLayout()
        runs_row.addWidget(QLabel("Runs"))
        runs_row.addStretch(1)
        runs_row.addWidget(self.choose_button)
        runs_w = QWidget()
        runs_layout = QVBoxLayout(runs_w)
        runs_layout.addLayout(runs_row)
        runs_layout.addWidget(self.runs_table)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(plots_w)
        top_results = QWidget()
        tr = QVBoxLayout(top_results)
        tr.addWidget(self.summary)
        tr.addWidget(results_w, 1)
        right.addWidget(top_results)
        right.addWidget(runs_w)
        layout = QHBoxLayout(self)
        layout.addWidget(left_w)
        layout.addWidget(right, 1)

    # ------------------------------------------------------------------ project and settings

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.live_curves = {}
        if project is not None:
            self.refresh()

    def refresh(self) -> None:
        """Called when the page is shown: the impulse may have changed."""
        if self.project is None:
            return
        self._loading = True
        cfg = blocks.load(self.project)
        self.params.set_schema(blocks.CLASSIFIER.schema, cfg.classifier)
        self.anomaly_check.setChecked(cfg.anomaly is not None)
        self.anomaly_params.set_schema(blocks.ANOMALY.schema, cfg.anomaly or {})
        self.anomaly_params.setEnabled(cfg.anomaly is not None)
        shape, classes, template, problem = self._impulse_shape()
        self.layer_editor.set_layers(cfg.layers, shape, classes, template)
        self.train_button.setEnabled(problem is None and self.job is None)
        self._loading = False
        notes = [problem] if problem else []
        refused = self.params.refused + self.anomaly_params.refused
        if refused:
            notes.append(f"{self.project.path / CONFIG_FILE}: saved training settings not used, defaults shown: "
                         + "; ".join(refused))
        self._say("\n".join(notes), error=bool(notes))
        self.refresh_runs()

    def _impulse_shape(self) -> tuple[tuple[int, ...], int, list[dict[str, Any]], str | None]:
        try:
            impulse = features.load_config(self.project)
            plan, block = features.configure(self.project, impulse)
        except StudioError as e:
            return (1,), 2, [], f"Design the impulse first: {e}"
        classes = len({label for label, n in plan.balance.items() if n["training"]})
        return block.shape, classes, layers.template(block.shape, impulse.block)[1], None

    def _anomaly_toggled(self, on: bool) -> None:
        self.anomaly_params.setEnabled(on)
        self.save_settings()

    def learn_config(self) -> blocks.LearnConfig:
        specs = None if self.layer_editor.is_template() else self.layer_editor.specs
        anomaly = self.anomaly_params.values() if self.anomaly_check.isChecked() else None
        return blocks.LearnConfig(self.params.values(), specs, anomaly)

    def save_settings(self) -> None:
        if self._loading or self.project is None:
            return
        try:
            blocks.save(self.project, self.learn_config())
        except StudioError as e:
            self._say(str(e), error=True)
            return
        self._say("")

    def _say(self, text: str, error: bool = False) -> None:
        theme.set_tone(self.settings_message, "error" if error else None)
        self.settings_message.setText(text)

    # ------------------------------------------------------------------ training

    def start_training(self) -> None:
        if self.project is None or self.job is not None:
            return
        if self.layer_editor.arch is None:
            self._say("Fix the layer list first: " + self.layer_editor.message.text(), error=True)
            return
        self.save_settings()
        self.live_curves = {}
        self._draw_curves({"this run": {}})
        self.job = self.runner.start("Training", train.run, train.TrainParams(self.project.path))
        self.job.partial.connect(self._epoch)
        self.job.finished.connect(self._trained)
        for sig in (self.job.finished, self.job.failed, self.job.cancelled):
            sig.connect(self._job_ended)
        self.job.cancelled.connect(self._stopped)
        self.job.failed.connect(lambda msg: self._say(msg.splitlines()[0], error=True))
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def cancel_training(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _epoch(self, info: Any) -> None:
        if not isinstance(info, dict) or "epoch" not in info:
            return
        prefix = "" if info["phase"] == "training" else f"{info['phase']} "
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            if key in info:
                self.live_curves.setdefault(prefix + key, []).append(info[key])
        self._draw_curves({"this run": self.live_curves})

    def _trained(self, result: train.TrainResult) -> None:
        self._job_ended()
        m = result.metrics
        self.log.emit(f"run {result.run.number}: float {percent(m['float']['accuracy'])}, "
                      f"int8 {percent(m['int8']['accuracy'])}" + (" (stopped early)" if m["cancelled"] else ""))
        self.refresh_runs(select=result.run.number)

    def _stopped(self) -> None:
        """Stopped while fitting, the job still finishes a run with the best weights so far."""
        self._job_ended()
        before = len(self.run_numbers) if hasattr(self, "run_numbers") else 0
        self.refresh_runs()
        if len(self.run_numbers) > before:
            self.refresh_runs(select=self.run_numbers[-1])
            self.log.emit(f"training stopped; run {self.run_numbers[-1]} keeps the best model so far")

    def _job_ended(self, *_: Any) -> None:
        self.job = None
        self.train_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    # ------------------------------------------------------------------ runs

    def refresh_runs(self, select: int | None = None) -> None:
        if self.project is None:
            return
        try:
            all_runs = runs.all_runs(self.project)
        except StudioError as e:
            self._say(str(e), error=True)
            all_runs = []
        chosen = runs.chosen(self.project)
        self.run_numbers = [r.number for r in all_runs]
        self.runs_table.blockSignals(True)
        self.runs_table.setRowCount(len(all_runs))
        for row, r in enumerate(all_runs):
            s = r.summary()
            cells = [str(s["run"]) + (" (stopped)" if s["cancelled"] else ""), s["dsp"], s["quantize"],
                     str(s["epochs"]), percent(s["float_accuracy"]), percent(s["int8_accuracy"]),
                     f"{s['int8_bytes']:,}", percent(s["sparsity"]), "yes" if s["run"] == chosen else ""]
            for col, text in enumerate(cells):
                self.runs_table.setItem(row, col, QTableWidgetItem(text))
        self.runs_table.blockSignals(False)
        if all_runs:
            target = select if select in self.run_numbers else (chosen or self.run_numbers[-1])
            self.runs_table.selectRow(self.run_numbers.index(target))
        else:
            self.summary.setText("No run yet.")

    def selected_runs(self) -> list[int]:
        rows = sorted({i.row() for i in self.runs_table.selectedIndexes()})
        return [self.run_numbers[r] for r in rows if r < len(self.run_numbers)]

    def _runs_selected(self) -> None:
        chosen = self.selected_runs()
        if not chosen or self.project is None:
            return
        loaded = [runs.load(self.project, n) for n in chosen]
        if self.job is None:
            self._draw_curves({f"run {r.number}": _flat_curves(r.curves) for r in loaded})
        self.show_run(loaded[0])

    def show_run(self, run: runs.Run) -> None:
        m = run.metrics
        extra = [f"sparsity {percent(m['sparsity'])}"] if m.get("sparsity") is not None else []
        if m.get("anomaly"):
            extra.append(f"anomaly threshold {m['anomaly']['threshold']}")
        self.summary.setText(
            f"<b>Run {run.number}</b>: testing accuracy float32 {percent(m['float']['accuracy'])}, "
            f"int8 {percent(m['int8']['accuracy'])} ({m['quantization']}) over {m['float']['windows']} windows; "
            f"model {m['float']['model_bytes']:,} B float32, {m['int8']['model_bytes']:,} B int8; "
            f"{m['epochs_trained']} epochs (best {m['best_epoch']})" + "".join(f"; {e}" for e in extra))
        self.confusion.show_matrix(m["classes"], m["int8"]["confusion"])
        self.classes.show_classes(m["float"], m["int8"])
        self.shown_run = run.number

    def choose_selected(self) -> None:
        chosen = self.selected_runs()
        if self.project is None or not chosen:
            return
        runs.choose(self.project, chosen[0])
        self.log.emit(f"run {chosen[0]} chosen for deployment")
        self.refresh_runs(select=chosen[0])

    # ------------------------------------------------------------------ curves

    def _draw_curves(self, series: dict[str, dict[str, list[float]]]) -> None:
        """``series``: name -> curve name -> values; loss curves left, accuracy curves right."""
        for plot in (self.loss_plot, self.acc_plot):
            plot.clear()
        i = 0
        for name, curves in series.items():
            for key, values in curves.items():
                plot = self.acc_plot if "accuracy" in key else self.loss_plot
                pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=2, style=Qt.PenStyle.DashLine if "val_" not in key
                               else Qt.PenStyle.SolidLine)
                label = key if len(series) == 1 else f"{name} {key}"
                plot.plot(list(range(1, len(values) + 1)), values, pen=pen, name=label)
                i += 1
        self.shown_curves = series


def _flat_curves(curves: dict[str, dict[str, list[float]]]) -> dict[str, list[float]]:
    """A run's curves of every phase, one after the other, named like the live ones."""
    out: dict[str, list[float]] = {}
    for phase, values in curves.items():
        prefix = "" if phase == "training" else f"{phase} "
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            if key in values:
                out[prefix + key] = values[key]
    return out
