"""A stand-in for torchsde, which Debian does not package: diffusers' DPMSolverSDEScheduler imports it for its
Brownian-tree noise, and make_goldens.py gives that scheduler its noise itself (so nothing here is ever called)."""


class BrownianInterval:  # noqa: D101
    def __init__(self, *args, **kwargs):
        raise RuntimeError("make_goldens.py gives DPMSolverSDEScheduler its noise; the Brownian tree is not used")
