"""edge-alpr: Mongolian licence plate recognition on small CPUs."""
