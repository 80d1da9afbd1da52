"""Reputation science: validation cases that check the cooperation mechanism
(engine/cooperation.py) and classic models against published results and closed forms
(docs/science.md). ``socialcredit science`` runs them (science/cli.py)."""
