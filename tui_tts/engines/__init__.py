"""Text-to-speech backends behind one interface: the embedded espeak-ng engine, RunPod, OpenAI-compatible."""
