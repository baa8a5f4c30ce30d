"""genviz: a desktop explorer for deep generative models."""
import os

# OpenMP threads that spin-wait for a descheduled sibling make torch crawl beside any busy process: a DDPM-200
# chain on 1,000 toy points took 12.2 s with the default policy and 0.66 s with PASSIVE on these 2 cores under
# load (genviz bench: busy_neighbour_*). OpenMP reads this when torch loads, so it is set before any genviz
# module can import torch; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
