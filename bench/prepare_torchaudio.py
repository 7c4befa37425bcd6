#!/usr/bin/env python3
"""Peer for `audiotag bench prepare` (bench/prepare.ts): torchaudio.load + mono + resample to the preset's rate
(torchaudio.transforms.Resample, kaiser_window, one kernel per source rate) + MelSpectrogram + power to dB, one
clip after another, on the same files and thread count. The same pipeline as the acceptance check's
prep_ref.py, with the preset's parameters. Prints JSON {clips_per_s, seconds, cpu_ms_per_clip}.

Usage: /usr/bin/python3 bench/prepare_torchaudio.py SPEC.json   with SPEC = {files, threads, sampleRate, nFft,
winLength, hopLength, nMels, fmin, fmax, power, melScale, melNorm}"""
import json, sys, time
import torch, torchaudio

spec = json.load(open(sys.argv[1]))
torch.set_num_threads(spec["threads"])
sr = spec["sampleRate"]
mel = torchaudio.transforms.MelSpectrogram(
    sr, n_fft=spec["nFft"], win_length=spec["winLength"], hop_length=spec["hopLength"], n_mels=spec["nMels"],
    f_min=spec["fmin"], f_max=spec["fmax"], power=spec["power"], norm=spec["melNorm"], mel_scale=spec["melScale"])
resamplers = {}
t = time.perf_counter()
c = time.process_time()
for f in spec["files"]:
    x, s = torchaudio.load(f)
    x = x.mean(0)
    if s != sr:
        if s not in resamplers:
            resamplers[s] = torchaudio.transforms.Resample(s, sr, resampling_method="kaiser_window")
        x = resamplers[s](x)
    m = 10 * torch.log10(torch.clamp(mel(x), min=1e-10))
dt = time.perf_counter() - t
cpu = time.process_time() - c
print(json.dumps({"impl": "torchaudio-" + torchaudio.__version__, "clips": len(spec["files"]),
                  "threads": spec["threads"], "clips_per_s": len(spec["files"]) / dt, "seconds": dt,
                  "cpu_ms_per_clip": 1000 * cpu / len(spec["files"])}))
