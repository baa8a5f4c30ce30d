"""genviz: a desktop explorer for deep generative models.

Thread policy (measured on 2 cores, torch 2.13 CPU): ``OMP_WAIT_POLICY=PASSIVE`` made a toy DDPM-200 chain
beside one busy process faster (0.61 s -> 0.42 s; under heavy load 12.2 s -> 0.66 s) but every idle run about
twice as slow (SDEdit latency 0.28 s -> 0.52 s, the same chain idle 0.22 s -> 0.54 s), so genviz keeps OpenMP's
default; the GUI's engine leaves a core free instead (``gui.chain_runner.configure_torch``). ``genviz bench``
reports both cases (``busy_neighbour_*``).
"""
__version__ = "0.1.0"
