"""Training: data pipeline, loop, checkpoints, DDP.

>>> from wincli.train import TrainOptions, train
>>> train(TrainOptions(task="rescaling", data=["imgs/"], steps=100))  # doctest: +SKIP
"""

from wincli.train.loop import TrainOptions, train

__all__ = ["TrainOptions", "train"]
