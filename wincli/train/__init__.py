"""Training: data pipeline, loop, checkpoints, DDP.

>>> from wincli.train import TrainOptions, train
>>> train(TrainOptions(task="rescaling", data=["imgs/"], steps=100))  # doctest: +SKIP
"""

__all__ = ["TrainOptions", "train"]


def __getattr__(name: str):
    # the loop (and torch) load on first use, so that the CLI's help stays fast
    if name in __all__:
        from wincli.train import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'wincli.train' has no attribute {name!r}")
