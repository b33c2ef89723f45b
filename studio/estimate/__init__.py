"""Flash, RAM, latency and energy of an impulse on a board, from the compiler and a calibrated cost model."""
