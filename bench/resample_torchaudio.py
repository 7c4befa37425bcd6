#!/usr/bin/python3
"""torchaudio side of bench/resample.ts: resamples the same signals with torchaudio.functional.resample.

Reads --input (float32 little-endian mono, written by the bench), times resample() from --from-rate to each
of --to-rates (best of --repeats, --threads torch threads) with two settings: torchaudio's default
(Hann-windowed sinc, lowpass_filter_width 6, rolloff 0.99) and librosa's "kaiser_best" (width 64,
rolloff 0.9475937, Kaiser beta 14.7697). Also resamples --sweep (the quality test signal) and writes
each output to --dump-dir/<setting>_<to>.f32 so the bench scores it with the same meter as ours.
Prints one JSON line. Run by bench/resample.ts with Debian's /usr/bin/python3.
"""
import argparse
import inspect
import json
import os
import time

import numpy as np
import torch
import torchaudio
import torchaudio.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--sweep", required=True)
    ap.add_argument("--from-rate", type=int, required=True)
    ap.add_argument("--to-rates", required=True, help="comma-separated")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dump-dir", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x = torch.from_numpy(np.fromfile(a.input, dtype="<f4").copy())[None, :]
    sweep = torch.from_numpy(np.fromfile(a.sweep, dtype="<f4").copy())[None, :]
    # torchaudio 0.13 calls the Kaiser method "kaiser_window"; 2.x renamed it "sinc_interp_kaiser".
    methods = inspect.signature(F.resample).parameters["resampling_method"].default
    kaiser = "kaiser_window" if methods == "sinc_interpolation" else "sinc_interp_kaiser"
    settings = {
        "default": dict(),
        "kaiser_best": dict(lowpass_filter_width=64, rolloff=0.9475937167399596,
                            resampling_method=kaiser, beta=14.769656459379492),
    }
    out = {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "threads": a.threads,
           "samples": x.shape[1], "results": []}
    for to in [int(t) for t in a.to_rates.split(",")]:
        for name, kw in settings.items():
            F.resample(x[:, :4096], a.from_rate, to, **kw)  # warm-up (kernel construction, allocator)
            best = float("inf")
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                F.resample(x, a.from_rate, to, **kw)
                best = min(best, time.perf_counter() - t0)
            y = F.resample(sweep, a.from_rate, to, **kw)[0].numpy().astype("<f4")
            y.tofile(os.path.join(a.dump_dir, f"{name}_{to}.f32"))
            out["results"].append({"setting": name, "to": to, "seconds": best,
                                   "msamples_per_s": x.shape[1] / best / 1e6})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
