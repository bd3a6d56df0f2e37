"""Benchmarks: tui-tts against the old ways, measured side by side in one run (`uv run python bench/run.py`)."""
