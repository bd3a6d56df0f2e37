"""Allow `python -m tui_tts`."""

from tui_tts.commands.cli import main

raise SystemExit(main())
