#!/usr/bin/python3
"""torchaudio side of bench/features.ts: log-mel (MelSpectrogram + AmplitudeToDB) of the same clips.

Reads --input (float32 little-endian, --clips x --samples, written by the bench), times
MelSpectrogram(float32, librosa-0.10 settings: Slaney scale and norm, constant centre padding,
periodic Hann) followed by AmplitudeToDB(top_db) per clip, like a Dataset's __getitem__ (wall clock and
process CPU time), and also in one batched call. Prints one JSON line; writes the first clip's dB output
to --dump (.npy) for a sanity comparison. Run by bench/features.ts with /usr/bin/python3 (Debian's torch/torchaudio).
"""
import argparse
import json
import time

import numpy as np
import torch
import torchaudio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--clips", type=int, required=True)
    ap.add_argument("--samples", type=int, required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--config", required=True, help="JSON: sampleRate nFft hopLength winLength nMels fmin fmax "
                                                    "power topDb padMode")
    ap.add_argument("--dump", default=None)
    a = ap.parse_args()
    c = json.loads(a.config)
    torch.set_num_threads(a.threads)
    x = torch.from_numpy(np.fromfile(a.input, dtype="<f4").reshape(a.clips, a.samples))
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=c["sampleRate"], n_fft=c["nFft"], win_length=c["winLength"], hop_length=c["hopLength"],
        f_min=float(c["fmin"]), f_max=float(c["fmax"]), n_mels=c["nMels"], power=float(c["power"]),
        center=True, pad_mode=c["padMode"], norm="slaney", mel_scale="slaney")
    db = torchaudio.transforms.AmplitudeToDB("power", top_db=c["topDb"])
    with torch.no_grad():
        first = db(mel(x[0]))  # warm-up (allocations, FFT plans)
        if a.dump:
            np.save(a.dump, np.ascontiguousarray(first.numpy()))
        per_clip, per_clip_cpu = [], []
        for _ in range(a.repeats):
            t, cpu0 = time.perf_counter(), time.process_time()
            for i in range(a.clips):
                db(mel(x[i]))
            per_clip.append(time.perf_counter() - t)
            per_clip_cpu.append(time.process_time() - cpu0)
        # The STFT alone (torch.stft, pocketfft inside), per frame, to compare with our FFT.
        win = torch.hann_window(c["winLength"])
        stft_times = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            frames = 0
            for i in range(min(a.clips, 20)):
                spec = torch.stft(x[i], c["nFft"], c["hopLength"], c["winLength"], win, center=True,
                                  pad_mode=c["padMode"], return_complex=True)
                frames += spec.shape[-1]
            stft_times.append((time.perf_counter() - t) / frames)
        batched = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            db(mel(x))
            batched.append(time.perf_counter() - t)
    # On a 3-D batch AmplitudeToDB clamps top_db against the whole batch's max (it packs the batch as
    # channels): slightly different values than per clip, the same amount of work.
    print(json.dumps({
        "torchaudio_clips_per_s": a.clips / min(per_clip),
        "torchaudio_batched_clips_per_s": a.clips / min(batched),
        "torchaudio_seconds": per_clip,
        "torchaudio_cpu_seconds": per_clip_cpu,
        "torch_stft_us_per_frame": 1e6 * min(stft_times),
        "torchaudio_threads": torch.get_num_threads(),
        "torch": torch.__version__, "torchaudio": torchaudio.__version__,
    }))


if __name__ == "__main__":
    main()
