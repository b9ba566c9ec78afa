#!/usr/bin/env python3
"""Inference speed of every task and preset: MP/s, MACs per pixel, GFLOP/s, peak RSS.

    python scripts/bench_speed.py [--size 512] [--tiled 4096] [--tile 512] [--presets cpu paper]
                                  [--tiled-presets cpu] [--threads 2] [--repeat 3]
                                  [--formats channels_last contiguous] [--peers]

Forward and inverse megapixels per second (of the high-dimensional side) on CPU, and on CUDA
when present; one whole image at --size and a --tiled image through the tiled pipeline
(0 skips it); MACs per input pixel counted with hooks on every convolution; achieved GFLOP/s
against this machine's measured 3x3-convolution throughput. Prints a Markdown table.
Weights are random (speed does not depend on them). ``--formats`` times the Converter in each
memory format (it runs channels-last by default). ``--peers`` adds, in the same run, IRN-style and
HiNet-style networks (Haar downsampling, then affine couplings with growth-32 dense blocks, the
couplings' count chosen to come closest to each ``cpu`` model's MAC/px) and prints each WIN
model's GFLOP/s as a ratio to theirs: efficiency at equal work, not absolute time.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wincli.converter import Converter  # noqa: E402
from wincli.models import build_model, count_params  # noqa: E402
from wincli.tasks import parse_task  # noqa: E402

TASKS = [
    (n, parse_task(n).kind, parse_task(n).config_fields())
    for n in ("hiding-1", "rescaling-x2", "rescaling-x4", "decolorization")
]


def macs_per_pixel(net, c_in: int, size: int = 64) -> float:
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total += out.numel() * (mod.in_channels // mod.groups) * k

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.inference_mode():
        net(torch.rand(1, c_in, size, size))
    for h in hooks:
        h.remove()
    return total / (size * size)  # the 1x1 WIC convolutions are functional: not counted


def conv_peak_gflops(device: torch.device, repeat: int = 10) -> float:
    """Best-of-``repeat`` throughput of one 64->64 3x3 convolution (channels_last)."""
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(device).to(memory_format=torch.channels_last)
    x = torch.rand(4, 64, 128, 128, device=device).to(memory_format=torch.channels_last)
    with torch.inference_mode():
        dt = timed(lambda: conv(x), repeat, device)
    return 2 * 64 * 64 * 9 * 4 * 128 * 128 / dt / 1e9


class Haar(torch.nn.Module):
    """The orthonormal 2x2 Haar transform of IRN / HiNet as a stride-2 grouped convolution:
    (B, c, H, W) -> (B, 4c, H/2, W/2); ``inverse`` is its transpose."""

    def __init__(self, c: int) -> None:
        super().__init__()
        k = torch.tensor(
            [[[1, 1], [1, 1]], [[1, -1], [1, -1]], [[1, 1], [-1, -1]], [[1, -1], [-1, 1]]],
            dtype=torch.float32,
        )
        self.c = c
        self.register_buffer("w", (k / 2).unsqueeze(1).repeat(c, 1, 1, 1))

    def forward(self, x):
        return torch.nn.functional.conv2d(x, self.w, stride=2, groups=self.c)

    def inverse(self, y):
        return torch.nn.functional.conv_transpose2d(y, self.w, stride=2, groups=self.c)


class Peer(torch.nn.Module):
    """IRN-style (``c_in`` 3: Haar, then couplings on 3 low + 9 high channels, output stays
    in the wavelet domain) or HiNet-style (``c_in`` 6, cover and secret: Haar, couplings on
    12 + 12 channels, inverse Haar) network of ``blocks`` couplings with growth-32 dense blocks."""

    def __init__(self, c_in: int, blocks: int, growth: int = 32) -> None:
        super().__init__()
        from wincli.layers.coupling import AffineCoupling

        self.haar, self.hinet = Haar(c_in), c_in == 6
        split = 12 if self.hinet else 3
        self.blocks = torch.nn.ModuleList(
            AffineCoupling(4 * c_in, split=split, growth=growth) for _ in range(blocks)
        )

    def forward(self, x):
        y = self.haar(x)
        for b in self.blocks:
            y = b(y)
        return self.haar.inverse(y) if self.hinet else y

    def inverse(self, y):
        x = self.haar(y) if self.hinet else y
        for b in reversed(self.blocks):
            x = b.inverse(x)
        return self.haar.inverse(x)


def matched_peer(c_in: int, mac: float) -> tuple[Peer, float]:
    """The peer (and its MAC/px) whose coupling count comes closest to ``mac`` MAC/px."""
    one = macs_per_pixel(Peer(c_in, 1), c_in)
    peer = Peer(c_in, max(1, round(mac / one))).eval()
    return peer, macs_per_pixel(peer, c_in)


def fmt(name: str) -> torch.memory_format:
    return {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}[name]


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, repeat: int, device) -> float:
    fn()
    _sync(device)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return best


def once(fn, x, device):
    t = time.perf_counter()
    y = fn(x)
    _sync(device)
    return time.perf_counter() - t, y


def peer_table(peers, dev, args) -> None:
    """WIN ``cpu`` networks beside IRN-style (rescaling) and HiNet-style (hiding) peers of about
    the same MAC/px, each timed forward and inverse on the bare network at --size, per format."""
    print(f"\nPeers at equal work ({args.size}x{args.size}, bare networks, forward + inverse)\n")
    print(
        "| WIN model | peer | format | WIN MAC/px | peer MAC/px | WIN GFLOP/s | peer GFLOP/s "
        "| WIN / peer |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, net, mac in peers:
        c_in = net.config.c_in
        peer, pmac = matched_peer(c_in, mac)
        peer.to(dev)
        label = f"{'HiNet' if c_in == 6 else 'IRN'}-style, {len(peer.blocks)} couplings"
        for form in args.formats:
            rates = []
            for model, m in ((net, mac), (peer, pmac)):
                model = model.to(memory_format=fmt(form))
                x = torch.rand(1, c_in, args.size, args.size, device=dev)
                x = x.contiguous(memory_format=fmt(form))
                with torch.inference_mode():
                    t = timed(lambda mo=model, a=x: mo.inverse(mo(a)), args.repeat, dev)
                rates.append(2 * 2 * m * args.size**2 / t / 1e9)
            print(
                f"| {name} | {label} | {form} | {mac / 1e3:.0f}K | {pmac / 1e3:.0f}K | "
                f"{rates[0]:.0f} | {rates[1]:.0f} | {rates[0] / rates[1]:.2f} |",
                flush=True,
            )


def compile_table(dev, args) -> None:
    """Inference-time ``torch.compile`` (inductor) of each ``cpu`` network's forward at one
    fixed --size tile, channels-last: compile seconds, MP/s against eager, and the image size
    from which compiling pays back (compile seconds / seconds saved per megapixel)."""
    print(f"\ntorch.compile, forward at one {args.size}x{args.size} tile (cpu preset)\n")
    print("| model | compile s | eager MP/s | compiled MP/s | speed-up | pays back from |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, task, kw in TASKS:
        if name not in args.tasks:
            continue
        net = build_model(task, preset="cpu", **kw).eval().to(dev)
        net = net.to(memory_format=torch.channels_last)
        x = torch.rand(1, net.config.c_in, args.size, args.size, device=dev)
        x = x.contiguous(memory_format=torch.channels_last)
        mp = args.size**2 / 1e6
        with torch.inference_mode():
            eager = mp / timed(lambda n=net, a=x: n(a), args.repeat, dev)
            compiled = torch.compile(net)
            t0 = time.perf_counter()
            compiled(x)
            _sync(dev)
            comp_s = time.perf_counter() - t0
            fast = mp / timed(lambda n=compiled, a=x: n(a), args.repeat, dev)
        saved = 1 / eager - 1 / fast  # seconds saved per megapixel
        back = f"{comp_s / saved:.0f} MP" if saved > 0 else "never"
        print(
            f"| {name} | {comp_s:.0f} | {eager:.3f} | {fast:.3f} | {fast / eager:.2f}x | {back} |",
            flush=True,
        )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--tiled", type=int, default=4096, help="tiled image side (0 = skip)")
    ap.add_argument("--tile", type=int, default=512)
    ap.add_argument(
        "--tiled-presets",
        nargs="+",
        default=["cpu"],
        help="presets timed on the tiled image (the paper preset needs ~15 min per task there)",
    )
    ap.add_argument("--presets", nargs="+", default=["cpu", "paper"])
    ap.add_argument("--tasks", nargs="+", default=[t[0] for t in TASKS])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--formats", nargs="+", default=["channels_last"], choices=["channels_last", "contiguous"]
    )
    ap.add_argument("--peers", action="store_true", help="IRN/HiNet-style blocks, same run")
    ap.add_argument(
        "--compile", action="store_true", help="torch.compile of the forward at one tile shape"
    )
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for dev in devices:
        peak = conv_peak_gflops(dev)
        print(f"\n{dev}: 3x3 convolution peak {peak:.0f} GFLOP/s (64->64 ch, channels_last)\n")
        print(
            "| model | preset | params | MAC/px | size | format | forward MP/s | inverse MP/s | "
            "GFLOP/s (fwd) | % of conv peak |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        peers = []
        for name, task, kw in TASKS:
            if name not in args.tasks:
                continue
            for preset in args.presets:
                net = build_model(task, preset=preset, **kw).eval().to(dev)
                mac = macs_per_pixel(net.cpu(), net.config.c_in)
                net.to(dev)
                if args.peers and preset == "cpu" and name in ("hiding-1", "rescaling-x2"):
                    peers.append((name, net, mac))
                sizes = [(args.size, None)]
                if args.tiled and preset in args.tiled_presets:
                    sizes.append((args.tiled, args.tile))
                for side, tile in sizes:
                    for form in args.formats:
                        conv = Converter(
                            net=net, device=dev, tile=tile, channels_last=form == "channels_last"
                        )
                        x = torch.rand(1, net.config.c_in, side, side)
                        if tile is None:
                            y = conv.forward(x)
                            tf = timed(lambda c=conv, t=x: c.forward(t), args.repeat, dev)
                            ti = timed(lambda c=conv, t=y: c.inverse(t), args.repeat, dev)
                        else:  # one pass each way: the whole-image run above warmed up
                            tf, y = once(conv.forward, x, dev)
                            ti, _ = once(conv.inverse, y, dev)
                        mp = side * side / 1e6
                        gfl = 2 * mac * side * side / tf / 1e9
                        label = f"{side}" + (f" (tiles {tile})" if tile else "")
                        print(
                            f"| {name} | {preset} | {count_params(net) / 1e6:.2f}M | "
                            f"{mac / 1e3:.0f}K | {label} | {form} | {mp / tf:.3f} | "
                            f"{mp / ti:.3f} | {gfl:.0f} | {100 * gfl / peak:.0f}% |",
                            flush=True,
                        )
        if peers:
            peer_table(peers, dev, args)
        if args.compile:
            compile_table(dev, args)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
