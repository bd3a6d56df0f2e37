"""Front ends: the command line, its commands and the headless driver."""
