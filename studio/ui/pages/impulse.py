"""Impulse: windowing with a preview over a sample, the DSP block and its parameters, the
features of the selected window, and the feature explorer (PCA or t-SNE of every window)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.dsp import explore, features
from studio.dsp.params import DspError
from studio.dsp.registry import all_blocks, get_block
from studio.dsp.windowing import ImpulseConfig
from studio.errors import StudioError
from studio.project import Project, ProjectError
from studio.project.config import CONFIG_FILE
from studio.text import oneline
from studio.ui import theme
from studio.ui.live_plot import PALETTE, plot_sample
from studio.ui.param_form import ParamForm


class ImpulsePage(QWidget):
    log = Signal(str)
    failed = Signal(str)  # a one-line error for the status bar

    def __init__(self, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.project: Project | None = None
        self.feature_set: features.FeatureSet | None = None
        self.points = None  # (windows, 2) explorer coordinates
        self._window_items: list[pg.LinearRegionItem] = []
        self._loading = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.apply)
        self._build()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.window_spin = QDoubleSpinBox()
        self.window_spin.setRange(1, 600000)
        self.window_spin.setValue(1000)
        self.window_spin.setSuffix(" ms")
        self.window_spin.setToolTip("Window length: what the model sees at once")
        self.stride_spin = QDoubleSpinBox()
        self.stride_spin.setRange(1, 600000)
        self.stride_spin.setValue(500)
        self.stride_spin.setSuffix(" ms")
        self.stride_spin.setToolTip("How far the window moves each step")
        self.pad_check = QCheckBox("Zero-pad short samples")
        self.pad_check.setChecked(True)
        self.pad_check.setToolTip("Samples shorter than a window: pad with zeros (on) or drop them (off)")
        self.block_combo = QComboBox()
        for b in all_blocks():
            self.block_combo.addItem(b.title, b.name)
        self.block_combo.setToolTip("The DSP block that turns a window into features")
        self.params = ParamForm()
        scroll = QScrollArea()
        scroll.setWidget(self.params)
        scroll.setWidgetResizable(True)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to its inputs, which it scrolls into view
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.generate_button = QPushButton("Generate features")
        self.generate_button.setToolTip("Compute the features of every window (cached) and show the explorer")
        self.generate_button.clicked.connect(self.generate)

        form = QFormLayout()
        form.addRow("Window", self.window_spin)
        form.addRow("Stride", self.stride_spin)
        form.addRow(self.pad_check)
        form.addRow("Block", self.block_combo)
        left = QVBoxLayout()
        box = QGroupBox("Impulse")
        box.setLayout(form)
        left.addWidget(box)
        left.addWidget(QLabel("Parameters"))
        left.addWidget(scroll, 1)
        left.addWidget(self.notes)
        left.addWidget(self.generate_button)
        left_w = QWidget()
        left_w.setLayout(left)
        left_w.setMaximumWidth(360)

        self.sample_combo = QComboBox()
        self.sample_combo.setToolTip("The sample to preview")
        self.window_index = QSpinBox()
        self.window_index.setToolTip("The window whose features are shown")
        self.preview = theme.plot_widget()
        self.preview.setMenuEnabled(False)
        self.preview.setLabel("bottom", "time (s)")
        self.feature_plot = theme.plot_widget()
        self.feature_plot.setMenuEnabled(False)
        self.feature_image = pg.ImageItem()
        self.feature_image.setColorMap(pg.colormap.get("viridis"))
        self.feature_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#4363d8")
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Sample"))
        pick.addWidget(self.sample_combo, 1)
        pick.addWidget(QLabel("Window"))
        pick.addWidget(self.window_index)
        middle = QVBoxLayout()
        middle.addLayout(pick)
        middle.addWidget(self.preview, 1)
        middle.addWidget(QLabel("Features of the window"))
        middle.addWidget(self.feature_plot, 1)
        middle_w = QWidget()
        middle_w.setLayout(middle)

        self.method_combo = QComboBox()
        self.method_combo.addItem("PCA", "pca")
        self.method_combo.addItem("t-SNE", "tsne")
        self.method_combo.setToolTip("How the explorer maps features to 2-D")
        self.method_combo.currentIndexChanged.connect(self._embed)
        self.explorer = theme.plot_widget()
        self.explorer.setMenuEnabled(False)
        self.explorer_legend = theme.add_legend(self.explorer)
        self.scatter_items: list[pg.ScatterPlotItem] = []
        right = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("Feature explorer"))
        row.addStretch(1)
        row.addWidget(self.method_combo)
        right.addLayout(row)
        right.addWidget(self.explorer, 1)
        right_w = QWidget()
        right_w.setLayout(right)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(middle_w)
        split.addWidget(right_w)
        layout = QHBoxLayout(self)
        layout.addWidget(left_w)
        layout.addWidget(split, 1)

        for w in (self.window_spin, self.stride_spin):
            w.valueChanged.connect(self._changed)
        self.pad_check.toggled.connect(self._changed)
        self.block_combo.currentIndexChanged.connect(self._block_changed)
        self.params.changed.connect(self._changed)
        self.sample_combo.currentIndexChanged.connect(self._changed)
        self.window_index.valueChanged.connect(self._show_window)

    # ------------------------------------------------------------------ project

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.feature_set = None
        self._clear_explorer()
        if project is None:
            return
        self._loading = True
        cfg, problem = self._saved_config(project)
        self.window_spin.setValue(cfg.window_ms)
        self.stride_spin.setValue(cfg.stride_ms)
        self.pad_check.setChecked(bool(cfg.pad_short))
        self.block_combo.setCurrentIndex(max(0, self.block_combo.findData(cfg.block)))
        self.params.set_schema(get_block(cfg.block).schema, cfg.params)
        if self.params.refused and not problem:
            problem = (f"{project.path / CONFIG_FILE}: saved {cfg.block} parameters not used, defaults shown: "
                       + "; ".join(self.params.refused))
        self._loading = False
        if problem:
            self.failed.emit(problem)
        self.refresh_samples()

    def _saved_config(self, project: Project) -> tuple[ImpulseConfig, str]:
        """The saved impulse, or the default one and why the saved one is not usable (hand-edited, or from
        another version)."""
        raw = project.config.settings.get("impulse")
        if not raw:
            return self._default_config(project), ""
        try:
            cfg = ImpulseConfig.from_dict(raw)
            get_block(cfg.block)
            if not isinstance(cfg.params, dict):
                raise ValueError("params must be an object")
            return replace(cfg, window_ms=float(cfg.window_ms), stride_ms=float(cfg.stride_ms)), ""
        except (StudioError, TypeError, ValueError, AttributeError) as e:
            return self._default_config(project), (f"{project.path / CONFIG_FILE}: the saved impulse is not usable "
                                                   f"({oneline(e)}); defaults shown")

    def shutdown(self) -> None:
        """The window is closing: no pending redraw may touch the project after it is closed."""
        self._debounce.stop()

    def _default_config(self, project: Project) -> ImpulseConfig:
        audio = any(s.kind == "audio" for s in project.samples(enabled=True))
        return ImpulseConfig(1000, 500 if not audio else 250, "mfe" if audio else "spectral")

    def refresh_samples(self) -> None:
        """Called when the page is shown: the dataset may have changed on Capture."""
        if self.project is None:
            return
        keep = self.sample_combo.currentData()
        self._loading = True
        self.sample_combo.clear()
        for s in self.project.samples(enabled=True):
            self.sample_combo.addItem(f"{s.id}: {s.label} ({s.category})", s.id)
        index = self.sample_combo.findData(keep)
        self.sample_combo.setCurrentIndex(index if index >= 0 else 0)
        self._loading = False
        self.apply()

    def config(self) -> ImpulseConfig:
        return ImpulseConfig(self.window_spin.value(), self.stride_spin.value(), self.block_combo.currentData(),
                             self.params.values(), None, self.pad_check.isChecked())

    # ------------------------------------------------------------------ updates

    def _block_changed(self) -> None:
        if self._loading:
            return
        self.params.set_schema(get_block(self.block_combo.currentData()).schema, {})
        self._changed()

    def _changed(self) -> None:
        if not self._loading:
            self._debounce.start()

    def apply(self) -> None:
        """Check the impulse against the data, save it, and redraw the preview."""
        self._debounce.stop()
        if self.project is None or self.sample_combo.count() == 0:
            return
        cfg = self.config()
        sample = self.project.get(self.sample_combo.currentData())
        try:
            values, windows, feats, plan, block = features.window_features(self.project, cfg, sample)
            features.save_config(self.project, cfg)
        except (DspError, ProjectError) as e:
            theme.set_tone(self.notes, "error")
            self.notes.setText(str(e))
            return
        theme.set_tone(self.notes, None)
        lines = [f"{plan.frequency_hz:g} Hz, {plan.window_frames} frames per window, features "
                 f"{'x'.join(map(str, block.shape))}, {sum(plan.windows.values())} windows in all",
                 "windows per label (training/testing): " + ", ".join(
                     f"{label} {n['training']}/{n['testing']}" for label, n in sorted(plan.balance.items()))]
        self.notes.setText("\n".join(lines + block.notes + plan.report()))
        self.current = (values, feats, plan, sample)
        self._draw_preview()
        self.window_index.setRange(0, max(0, len(feats) - 1))
        self._show_window()

    def _draw_preview(self) -> None:
        values, feats, plan, sample = self.current
        self.preview.clear()
        plot_sample(self.preview, values, sample.interval_ms)
        self._window_items = []
        for k in range(min(len(feats), 60)):  # the first windows, alternately shaded
            start = k * plan.stride_frames / plan.frequency_hz
            item = pg.LinearRegionItem((start, start + plan.window_frames / plan.frequency_hz), movable=False,
                                       brush=_window_brush(k, False))
            self.preview.addItem(item)
            self._window_items.append(item)

    def _show_window(self) -> None:
        if not hasattr(self, "current"):
            return
        feats = self.current[1]
        k = self.window_index.value()
        for i, item in enumerate(self._window_items):
            item.setBrush(_window_brush(i, i == k))
        self.feature_plot.clear()
        if not len(feats):
            return
        f = feats[min(k, len(feats) - 1)]
        if f.ndim == 2:
            self.feature_image.setImage(f, autoLevels=True)
            self.feature_plot.addItem(self.feature_image)
            self.feature_plot.setLabel("bottom", "frame")
        else:
            self.feature_bars.setOpts(x=np.arange(len(f)), height=f, width=0.8)
            self.feature_plot.addItem(self.feature_bars)
            self.feature_plot.setLabel("bottom", "feature")
        self.shown_features = f

    # ------------------------------------------------------------------ features and explorer

    def generate(self) -> None:
        if self.project is None:
            return
        self.apply()
        handle = self.runner.start("Features", features.run, features.FeatureParams(self.project.path, self.config()))
        handle.finished.connect(self._features_done)
        self.generate_button.setEnabled(False)
        for sig in (handle.finished, handle.failed, handle.cancelled):
            sig.connect(lambda *_: self.generate_button.setEnabled(True))
        self.job = handle

    def _features_done(self, result: features.FeatureSet) -> None:
        self.feature_set = result
        self.log.emit(f"features: {len(result.features)} windows of {'x'.join(map(str, result.shape))}, "
                      f"{result.computed} sample(s) computed, {result.cached} cached")
        self._embed()

    def _embed(self) -> None:
        if self.feature_set is None or len(self.feature_set.features) < 3:
            return
        method = self.method_combo.currentData()
        handle = self.runner.start("Explorer", lambda x, progress: explore.embed(x, method), self.feature_set.features)
        handle.finished.connect(self._draw_explorer)
        self.embed_job = handle

    def _clear_explorer(self) -> None:
        for item in self.scatter_items:
            self.explorer.removeItem(item)
        self.scatter_items = []
        self.explorer_legend.clear()

    def _draw_explorer(self, points: np.ndarray) -> None:
        self._clear_explorer()
        self.points = points
        fs = self.feature_set
        labels = np.array(fs.labels)
        for i, label in enumerate(sorted(set(fs.labels))):
            idx = np.flatnonzero(labels == label)
            item = pg.ScatterPlotItem(x=points[idx, 0], y=points[idx, 1], data=idx, size=7, name=label,
                                      brush=pg.mkBrush(PALETTE[i % len(PALETTE)]), pen=None, hoverable=True)
            item.sigClicked.connect(self._point_clicked)
            self.explorer.addItem(item)
            self.scatter_items.append(item)

    def explorer_point_count(self) -> int:
        return sum(len(item.data) for item in self.scatter_items)

    def _point_clicked(self, item, spots, event=None) -> None:
        if not len(spots):
            return
        self.open_window(int(spots[0].data()))

    def open_window(self, row: int) -> None:
        """Show the sample and window behind explorer point ``row``."""
        fs = self.feature_set
        sample_id, k = int(fs.sample_ids[row]), int(fs.window_index[row])
        self.sample_combo.setCurrentIndex(self.sample_combo.findData(sample_id))
        self.apply()
        self.window_index.setValue(k)


def _window_brush(index: int, selected: bool) -> pg.QtGui.QBrush:
    """The selected window in orange; the others in alternating light blue."""
    return pg.mkBrush(220, 120, 40, 90) if selected else pg.mkBrush(80, 120, 220, 25 if index % 2 else 45)
