"""The wizard pages, one module each: capture, impulse, train, test, deploy."""
