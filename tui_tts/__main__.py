"""Allow `python -m tui_tts`."""

from tui_tts.cli import main

raise SystemExit(main())
