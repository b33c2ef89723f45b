"""Learning blocks: classifier and anomaly models, training, quantization, runs and testing."""
