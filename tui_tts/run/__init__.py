"""Orchestration: a run from request to finished book (session, runner, scheduler, join)."""
