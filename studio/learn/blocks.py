"""Learning blocks as registry entries: a name, a version, a parameter schema and defaults.

The project keeps what the user chose in ``settings["learn"]``: the classifier's parameters
(only those that differ from the defaults), its layer list (``None``: the template for the
impulse's features) and the anomaly block's parameters (``None``: no anomaly block).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.params import Entry, Param
from studio.project import Project


@dataclass(frozen=True)
class LearnBlock(Entry):
    """A learning block: a registry entry (name, version, schema with defaults, summary) like a DSP block."""


CLASSIFIER = LearnBlock("classifier", "Classifier (neural network)", 1, (
    Param("epochs", "int", 30, "Training cycles over the training windows", minimum=1, maximum=2000),
    Param("learning_rate", "float", 0.005, "Step size of the Adam optimizer", minimum=1e-6, maximum=1.0),
    Param("batch_size", "int", 32, "Windows per training step", minimum=1, maximum=4096),
    Param("validation_split", "float", 0.2, "Share of training samples held out for validation (by sample)",
          minimum=0.0, maximum=0.5),
    Param("early_stopping", "int", 0, "Stop after this many epochs without a better validation loss (0: off)",
          minimum=0, maximum=1000),
    Param("class_weights", "bool", True, "Weight classes by their inverse frequency (for imbalanced data)"),
    Param("noise", "float", 0.0, "Augmentation: Gaussian noise, as a share of each feature's spread",
          minimum=0.0, maximum=2.0),
    Param("time_shift", "float", 0.0, "Augmentation: random shift along time, as a share of the frames "
          "(sequence and image features)", minimum=0.0, maximum=0.5),
    Param("background_mix", "float", 0.0, "Augmentation (audio): share of training windows that get a mixed "
          "copy with background noise", minimum=0.0, maximum=1.0),
    Param("background_label", "text", "noise", "Label of the recordings used as background noise"),
    Param("background_gain", "float", 0.3, "Largest background level relative to its recording",
          minimum=0.0, maximum=2.0),
    Param("seed", "int", 1, "Seed of every random choice: same seed, same model", minimum=0, maximum=2**31 - 1),
    Param("quantize", "choice", "ptq", "int8 by post-training quantization (ptq) or quantization-aware "
          "training (qat)", choices=("ptq", "qat")),
    Param("qat_epochs", "int", 5, "Quantization-aware fine-tuning epochs", minimum=1, maximum=500),
    Param("prune", "float", 0.0, "Target sparsity of magnitude pruning (0: off)", minimum=0.0, maximum=0.95),
    Param("prune_epochs", "int", 5, "Pruning fine-tuning epochs", minimum=1, maximum=500),
), "A neural network on the DSP features; float32 and int8 TFLite models.")

ANOMALY = LearnBlock("anomaly", "Anomaly detection (K-means)", 1, (
    Param("clusters", "int", 32, "Number of K-means centres", minimum=1, maximum=1024),
    Param("features", "floats", [], "Indices of the features it looks at (empty: all)", minimum=0),
    Param("threshold_percentile", "float", 99.9, "Scores above this percentile of the training scores are "
          "anomalies", minimum=50.0, maximum=100.0),
), "Distance to the nearest K-means centre of the training features, scaled per feature.")

@dataclass
class LearnConfig:
    classifier: dict[str, Any] = field(default_factory=dict)  # given values only
    layers: list[dict[str, Any]] | None = None  # None: the template for the features
    anomaly: dict[str, Any] | None = None  # None: no anomaly block

    def to_dict(self) -> dict[str, Any]:
        return {"classifier": self.classifier, "layers": self.layers, "anomaly": self.anomaly}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> LearnConfig:
        d = d or {}
        return cls(dict(d.get("classifier") or {}), d.get("layers"), d.get("anomaly"))


def load(project: Project) -> LearnConfig:
    return LearnConfig.from_dict(project.config.settings.get("learn"))


def save(project: Project, cfg: LearnConfig) -> None:
    CLASSIFIER.resolve(cfg.classifier)  # refuse bad values before they are stored
    if cfg.anomaly is not None:
        ANOMALY.resolve(cfg.anomaly)
    project.set_setting("learn", cfg.to_dict())
