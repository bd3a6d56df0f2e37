"""Audio out: facts about audio files, ffmpeg discovery, and stitching chunks into one file."""
