"""tui-tts: long text to one finished audio file, with remote or local text-to-speech."""

__version__ = "0.1.0"
