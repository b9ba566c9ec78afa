"""Training: data pipeline, loop, checkpoints, DDP.

>>> from wincli.train import TrainOptions, train
>>> train(TrainOptions(task="rescaling", data=["imgs/"], steps=100))  # doctest: +SKIP
>>> train(TrainOptions(encoder_for="rescaling-x2-win-cpu", data=["imgs/"]))  # doctest: +SKIP
"""

__all__ = ["TrainOptions", "train"]


def train(opts) -> dict[str, float]:
    """Train (or resume) the run ``opts`` (a :class:`TrainOptions`) describes: a network
    (``wincli.train.loop``), or with ``encoder_for`` (or resuming such a run) the one-pass
    encoder of a frozen network (``wincli.train.encoder``); returns the last validation metrics."""
    import dataclasses
    from pathlib import Path

    from wincli.train.encoder import encoder_options, is_encoder_run, train_encoder
    from wincli.train.loop import train as train_network

    if opts.resume and is_encoder_run(Path(opts.resume)):
        given = {"encoder_for": "", "out": opts.resume, "time_limit": opts.time_limit}
        return train_encoder(encoder_options(given), resume=True)
    if opts.encoder_for:
        return train_encoder(encoder_options(dataclasses.asdict(opts)))
    return train_network(opts)


def __getattr__(name: str):
    # the loop (and torch) load on first use, so that the CLI's help stays fast
    if name == "TrainOptions":
        from wincli.train.options import TrainOptions

        return TrainOptions
    raise AttributeError(f"module 'wincli.train' has no attribute {name!r}")
