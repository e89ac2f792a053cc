"""Typer commands: parse, call one backend method, render. No rules live here."""
