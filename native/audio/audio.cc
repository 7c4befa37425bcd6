// audiotag_audio.node: in-process decoding (libsndfile: FLAC, Ogg Vorbis, Ogg Opus, MP3) and resampling
// (libsoxr) for src/audio/native.ts. Deliberately separate from the libtorch addon: it links only
// libsndfile and libsoxr, so decoding works in the libtorch-free paths (ONNX prediction, `dataset
// validate`) too, and it loads in a few milliseconds.
//
// Exports:
//   info(path) -> {sampleRate, channels, frames, codec, seekable}             header only, no decoding
//   decode(path, opts) -> Promise<{sampleRate, channels: Float32Array[]}>    on the libuv thread pool
//   decodeSync(path, opts) -> same, synchronously (for worker threads that have nothing else to do)
//     opts: {start?: frames, count?: frames (-1: to the end) | offset?: s, duration?: s; mono?: bool, rate?: Hz,
//            quality?: 'hq'|'fast'}; the result also has fileRate, fileFrames (libsndfile's count) and start
//   resample(x: Float32Array, fromRate, toRate, quality) -> Float32Array      one shot, ceil(n*to/from) samples
//   Resampler(fromRate, toRate, quality): .process(x) -> Float32Array, .flush() -> Float32Array  (streaming)
//
// Errors are plain Errors whose message is the problem alone; the TypeScript side names the file.
#include <mpg123.h>
#include <napi.h>
#include <sndfile.h>
#include <soxr.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

struct SfCloser {
  void operator()(SNDFILE* f) const {
    if (f != nullptr) sf_close(f);
  }
};
using SfPtr = std::unique_ptr<SNDFILE, SfCloser>;

struct SoxrCloser {
  void operator()(soxr_t s) const {
    if (s != nullptr) soxr_delete(s);
  }
};
using SoxrPtr = std::unique_ptr<std::remove_pointer<soxr_t>::type, SoxrCloser>;

// ffmpeg's codec names, so audioInfo reads alike whichever decoder answered.
std::string codecName(int format) {
  const int major = format & SF_FORMAT_TYPEMASK;
  const int sub = format & SF_FORMAT_SUBMASK;
  if (major == SF_FORMAT_FLAC) return "flac";
  if (sub == SF_FORMAT_VORBIS) return "vorbis";
  if (sub == SF_FORMAT_OPUS) return "opus";
  if (sub == SF_FORMAT_MPEG_LAYER_III) return "mp3";
  if (sub == SF_FORMAT_MPEG_LAYER_II) return "mp2";
  if (sub == SF_FORMAT_MPEG_LAYER_I) return "mp1";
  if (major == SF_FORMAT_OGG) return "ogg";
  return "sndfile";
}

// The formats this addon is trusted with; anything else goes back to the caller (ffmpeg).
bool supported(int format) {
  const int major = format & SF_FORMAT_TYPEMASK;
  const int sub = format & SF_FORMAT_SUBMASK;
  return major == SF_FORMAT_FLAC || (major == SF_FORMAT_OGG && (sub == SF_FORMAT_VORBIS || sub == SF_FORMAT_OPUS)) ||
         major == SF_FORMAT_MPEG;
}

SfPtr openFile(const std::string& path, SF_INFO* info, std::string* error) {
  std::memset(info, 0, sizeof(*info));
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, info);
  if (f == nullptr) {
    *error = std::string("libsndfile cannot open it: ") + sf_strerror(nullptr);
    return SfPtr();
  }
  if (!supported(info->format)) {
    sf_close(f);
    *error = "unsupported: not FLAC, Ogg Vorbis/Opus or MPEG audio";
    return SfPtr();
  }
  if (info->channels < 1 || info->samplerate < 1) {
    sf_close(f);
    *error = "libsndfile reports " + std::to_string(info->samplerate) + " Hz and " +
             std::to_string(info->channels) + " channels";
    return SfPtr();
  }
  // Integer formats map to [-1, 1) by 1/2^(bits-1), as sox and the WAV decoder do (libsndfile's default).
  sf_command(f, SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
  return SfPtr(f);
}

soxr_quality_spec_t qualitySpec(const std::string& quality) {
  // 'hq': soxr's HQ recipe (20-bit) with the pass band widened from 0.913 to 0.95 of the lower Nyquist
  // (stop band from the lower Nyquist: nothing aliases into the output band). Measured with
  // bench/resample-meter.ts it is the best of the recipes tried over 44.1→16, 16→44.1, 48→44.1 and
  // 32→44.1 kHz (worst residual or aliasing −110 dB) and the fastest of them: the stock VHQ recipe reaches
  // only −98 dB at 44.1→16 kHz through its pass-band roll-off, 24-bit/0.95 −107 dB at 1.8× the cost.
  // 'fast': soxr's MQ recipe (16-bit, ≈ −80 dB). Figures in docs/audio.md.
  if (quality == "fast") return soxr_quality_spec(SOXR_MQ, 0);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  q.passband_end = 0.95;
  return q;
}

uint64_t resampledLength(uint64_t n, uint64_t from, uint64_t to) {
  uint64_t a = from, b = to;
  while (b != 0) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  const uint64_t L = to / a, M = from / a;
  return (n * L + M - 1) / M;
}

// A one-channel soxr stream. soxr's linear-phase filter delay is compensated inside soxr, so output
// sample k sits at input time k * from / to, like src/audio/resample.ts.
class Stream {
 public:
  Stream(double from, double to, const std::string& quality) {
    soxr_error_t err = nullptr;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = qualitySpec(quality);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    s_.reset(soxr_create(from, to, 1, &err, &io, &q, &rt));
    if (err != nullptr) error_ = std::string("soxr: ") + err;
  }
  const std::string& error() const { return error_; }

  // Feeds `n` samples (nullptr: end of input) and appends everything soxr has ready to `out`.
  void push(const float* x, size_t n, std::vector<float>* out) {
    const bool flush = x == nullptr;
    size_t offered = 0;
    float buf[8192];
    for (;;) {
      size_t idone = 0, odone = 0;
      soxr_error_t err = soxr_process(s_.get(), flush ? nullptr : x + offered, flush ? 0 : n - offered, &idone, buf,
                                      sizeof(buf) / sizeof(buf[0]), &odone);
      if (err != nullptr) {
        error_ = std::string("soxr: ") + err;
        return;
      }
      offered += idone;
      out->insert(out->end(), buf, buf + odone);
      if (flush ? odone == 0 : (offered >= n && odone == 0)) return;
    }
  }

 private:
  SoxrPtr s_;
  std::string error_;
};

bool resampleAll(const float* x, size_t n, double from, double to, const std::string& quality, std::vector<float>* y,
                 std::string* error) {
  const size_t want = resampledLength(n, (uint64_t)from, (uint64_t)to);
  y->clear();
  y->reserve(want + 64);
  Stream s(from, to, quality);
  if (!s.error().empty()) {
    *error = s.error();
    return false;
  }
  if (n > 0) s.push(x, n, y);
  s.push(nullptr, 0, y);
  if (!s.error().empty()) {
    *error = s.error();
    return false;
  }
  // The same length as the TypeScript resampler: ceil(n * to / from) (soxr ends within a sample of it).
  y->resize(want, 0.0f);
  return true;
}

struct DecodeRequest {
  std::string path;
  int64_t start = 0;
  int64_t count = -1;
  // Alternatively the range in seconds (>= 0 when given), turned into frames once the rate is known:
  // round(offset * rate) and round(duration * rate), as the WAV reader does.
  double offsetSeconds = -1;
  double durationSeconds = -1;
  bool mono = false;
  int rate = 0;
  std::string quality = "hq";
};

struct Decoded {
  int sampleRate = 0;
  int fileRate = 0;
  int64_t fileFrames = 0;
  int64_t start = 0;
  std::vector<std::vector<float>> channels;
};

// Decodes [start, start + count) (count -1: to the end), optionally to mono and another rate.
bool decodeFile(DecodeRequest rq, Decoded* out, std::string* error) {
  SF_INFO info;
  SfPtr f = openFile(rq.path, &info, error);
  if (!f) return false;
  const int nch = info.channels;
  if (rq.offsetSeconds >= 0) rq.start = std::llround(rq.offsetSeconds * info.samplerate);
  if (rq.durationSeconds >= 0) rq.count = std::llround(rq.durationSeconds * info.samplerate);
  out->fileRate = info.samplerate;
  out->fileFrames = info.frames;
  out->start = rq.start;
  // A start at or past the end gives no frames; the caller words the error (it knows the offset in seconds).
  const bool pastEnd = info.frames > 0 && rq.start >= info.frames;
  if (rq.start > 0 && !pastEnd) {
    if (sf_seek(f.get(), rq.start, SEEK_SET) < 0) {
      *error = std::string("libsndfile cannot seek to frame ") + std::to_string(rq.start) + ": " +
               sf_strerror(f.get());
      return false;
    }
  }
  std::vector<float> inter;
  const int64_t block = 65536;
  if (rq.count >= 0) inter.reserve((size_t)rq.count * nch);
  else if (info.frames > 0 && info.frames < (int64_t)1 << 34) inter.reserve((size_t)(info.frames - rq.start + 1) * nch);
  int64_t got = 0;
  for (; !pastEnd;) {
    int64_t want = rq.count >= 0 ? std::min(block, rq.count - got) : block;
    if (want <= 0) break;
    const size_t at = inter.size();
    inter.resize(at + (size_t)want * nch);
    sf_count_t r = sf_readf_float(f.get(), inter.data() + at, want);
    if (r < 0) r = 0;
    inter.resize(at + (size_t)r * nch);
    got += r;
    if (r < want) break;
  }
  const int err = sf_error(f.get());
  if (err != SF_ERR_NO_ERROR) {
    *error = std::string("libsndfile failed to decode it: ") + sf_strerror(f.get());
    return false;
  }
  const size_t frames = (size_t)got;
  // Reject NaN/Inf here with the same wording as src/audio/validate.ts.
  for (size_t i = 0; i < inter.size(); i++) {
    const float v = inter[i];
    if (!std::isfinite(v)) {
      const size_t frame = i / nch;
      char buf[160];
      std::snprintf(buf, sizeof buf, "sample %zu (%.3f s) of channel %zu is %s", frame,
                    (double)frame / info.samplerate, i % nch, std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"));
      *error = buf;
      return false;
    }
  }
  std::vector<std::vector<float>> chans;
  if (rq.mono || nch == 1) {
    std::vector<float> m(frames);
    if (nch == 1) {
      std::memcpy(m.data(), inter.data(), frames * sizeof(float));
    } else {
      // The mean in double per sample, rounded once: the same arithmetic as toMono in effects.ts.
      for (size_t i = 0; i < frames; i++) {
        double s = 0;
        for (int c = 0; c < nch; c++) s += inter[i * nch + c];
        m[i] = (float)(s / nch);
      }
    }
    std::vector<float>().swap(inter);
    chans.push_back(std::move(m));
  } else {
    chans.assign(nch, std::vector<float>(frames));
    for (size_t i = 0; i < frames; i++)
      for (int c = 0; c < nch; c++) chans[c][i] = inter[i * nch + c];
  }
  out->sampleRate = info.samplerate;
  if (rq.rate > 0 && rq.rate != info.samplerate && frames > 0) {
    for (auto& ch : chans) {
      std::vector<float> y;
      if (!resampleAll(ch.data(), ch.size(), info.samplerate, rq.rate, rq.quality, &y, error)) return false;
      ch.swap(y);
    }
    out->sampleRate = rq.rate;
  }
  out->channels = std::move(chans);
  return true;
}

Napi::Value toJs(Napi::Env env, Decoded& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("sampleRate", Napi::Number::New(env, d.sampleRate));
  o.Set("fileRate", Napi::Number::New(env, d.fileRate));
  o.Set("fileFrames", Napi::Number::New(env, (double)d.fileFrames));
  o.Set("start", Napi::Number::New(env, (double)d.start));
  Napi::Array arr = Napi::Array::New(env, d.channels.size());
  for (size_t c = 0; c < d.channels.size(); c++) {
    auto& ch = d.channels[c];
    Napi::Float32Array a = Napi::Float32Array::New(env, ch.size());
    if (!ch.empty()) std::memcpy(a.Data(), ch.data(), ch.size() * sizeof(float));
    std::vector<float>().swap(ch);
    arr.Set((uint32_t)c, a);
  }
  o.Set("channels", arr);
  return o;
}

DecodeRequest parseRequest(const Napi::CallbackInfo& args) {
  Napi::Env env = args.Env();
  if (args.Length() < 1 || !args[0].IsString()) throw Napi::TypeError::New(env, "decode: expected a path string");
  DecodeRequest rq;
  rq.path = args[0].As<Napi::String>().Utf8Value();
  if (args.Length() >= 2 && args[1].IsObject()) {
    Napi::Object o = args[1].As<Napi::Object>();
    if (o.Has("start") && o.Get("start").IsNumber()) rq.start = o.Get("start").As<Napi::Number>().Int64Value();
    if (o.Has("count") && o.Get("count").IsNumber()) rq.count = o.Get("count").As<Napi::Number>().Int64Value();
    if (o.Has("offset") && o.Get("offset").IsNumber()) rq.offsetSeconds = o.Get("offset").As<Napi::Number>().DoubleValue();
    if (o.Has("duration") && o.Get("duration").IsNumber())
      rq.durationSeconds = o.Get("duration").As<Napi::Number>().DoubleValue();
    if (o.Has("mono") && o.Get("mono").IsBoolean()) rq.mono = o.Get("mono").As<Napi::Boolean>().Value();
    if (o.Has("rate") && o.Get("rate").IsNumber()) rq.rate = o.Get("rate").As<Napi::Number>().Int32Value();
    if (o.Has("quality") && o.Get("quality").IsString()) rq.quality = o.Get("quality").As<Napi::String>().Utf8Value();
  }
  if (rq.start < 0) throw Napi::RangeError::New(env, "decode: start must be >= 0");
  return rq;
}

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, DecodeRequest rq)
      : Napi::AsyncWorker(env, "audiotag.decode"), rq_(std::move(rq)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string error;
    if (!decodeFile(rq_, &out_, &error)) SetError(error);
  }
  void OnOK() override { deferred_.Resolve(toJs(Env(), out_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  DecodeRequest rq_;
  Decoded out_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value Decode(const Napi::CallbackInfo& args) {
  DecodeRequest rq = parseRequest(args);
  auto* w = new DecodeWorker(args.Env(), std::move(rq));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value DecodeSync(const Napi::CallbackInfo& args) {
  DecodeRequest rq = parseRequest(args);
  Decoded out;
  std::string error;
  if (!decodeFile(rq, &out, &error)) throw Napi::Error::New(args.Env(), error);
  return toJs(args.Env(), out);
}

// An MP3's exact decoded length (encoder delay and padding removed, as the decoder does) from a scan of its
// frame headers, without decoding: libsndfile reports mpg123's estimate from the file size, which is off by
// thousands of frames for VBR files.
int64_t mp3Frames(const std::string& path) {
  int err = MPG123_OK;
  mpg123_handle* h = mpg123_new(nullptr, &err);
  if (h == nullptr) return -1;
  int64_t frames = -1;
  mpg123_param(h, MPG123_ADD_FLAGS, MPG123_GAPLESS | MPG123_QUIET, 0);
  if (mpg123_open(h, path.c_str()) == MPG123_OK) {
    if (mpg123_scan(h) == MPG123_OK) {
      const off_t n = mpg123_length(h);
      if (n >= 0) frames = (int64_t)n;
    }
    mpg123_close(h);
  }
  mpg123_delete(h);
  return frames;
}

Napi::Value Info(const Napi::CallbackInfo& args) {
  Napi::Env env = args.Env();
  if (args.Length() < 1 || !args[0].IsString()) throw Napi::TypeError::New(env, "info: expected a path string");
  SF_INFO info;
  std::string error;
  SfPtr f = openFile(args[0].As<Napi::String>().Utf8Value(), &info, &error);
  if (!f) throw Napi::Error::New(env, error);
  Napi::Object o = Napi::Object::New(env);
  o.Set("sampleRate", Napi::Number::New(env, info.samplerate));
  o.Set("channels", Napi::Number::New(env, info.channels));
  int64_t frames = info.frames;
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
    f.reset();
    const int64_t exact = mp3Frames(args[0].As<Napi::String>().Utf8Value());
    if (exact >= 0) frames = exact;
  }
  o.Set("frames", Napi::Number::New(env, (double)frames));
  o.Set("codec", Napi::String::New(env, codecName(info.format)));
  o.Set("seekable", Napi::Boolean::New(env, info.seekable != 0));
  return o;
}

void checkRates(Napi::Env env, double from, double to) {
  if (!(from > 0) || !(to > 0) || from != std::floor(from) || to != std::floor(to))
    throw Napi::RangeError::New(env, "resample: rates must be positive integers");
}

Napi::Value Resample(const Napi::CallbackInfo& args) {
  Napi::Env env = args.Env();
  if (args.Length() < 3 || !args[0].IsTypedArray()) throw Napi::TypeError::New(env, "resample(x, from, to, quality)");
  Napi::Float32Array x = args[0].As<Napi::Float32Array>();
  const double from = args[1].As<Napi::Number>().DoubleValue();
  const double to = args[2].As<Napi::Number>().DoubleValue();
  checkRates(env, from, to);
  const std::string quality = args.Length() > 3 && args[3].IsString() ? args[3].As<Napi::String>().Utf8Value() : "hq";
  std::vector<float> y;
  std::string error;
  if (!resampleAll(x.Data(), x.ElementLength(), from, to, quality, &y, &error)) throw Napi::Error::New(env, error);
  Napi::Float32Array out = Napi::Float32Array::New(env, y.size());
  if (!y.empty()) std::memcpy(out.Data(), y.data(), y.size() * sizeof(float));
  return out;
}

// Streaming resampler for long recordings: the concatenated output of process()...flush() equals the one-shot
// resample of the concatenated input (cut to ceil(n * to / from) by the caller).
class Resampler : public Napi::ObjectWrap<Resampler> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Resampler",
                       {InstanceMethod("process", &Resampler::Process), InstanceMethod("flush", &Resampler::Flush)});
  }
  explicit Resampler(const Napi::CallbackInfo& args) : Napi::ObjectWrap<Resampler>(args) {
    Napi::Env env = args.Env();
    if (args.Length() < 2) throw Napi::TypeError::New(env, "new Resampler(from, to, quality)");
    const double from = args[0].As<Napi::Number>().DoubleValue();
    const double to = args[1].As<Napi::Number>().DoubleValue();
    checkRates(env, from, to);
    const std::string quality = args.Length() > 2 && args[2].IsString() ? args[2].As<Napi::String>().Utf8Value() : "hq";
    stream_ = std::make_unique<Stream>(from, to, quality);
    if (!stream_->error().empty()) throw Napi::Error::New(env, stream_->error());
  }

 private:
  Napi::Value emit(Napi::Env env, const std::vector<float>& y) {
    if (!stream_->error().empty()) throw Napi::Error::New(env, stream_->error());
    Napi::Float32Array out = Napi::Float32Array::New(env, y.size());
    if (!y.empty()) std::memcpy(out.Data(), y.data(), y.size() * sizeof(float));
    return out;
  }
  Napi::Value Process(const Napi::CallbackInfo& args) {
    Napi::Env env = args.Env();
    if (done_) throw Napi::Error::New(env, "Resampler: process() after flush()");
    if (args.Length() < 1 || !args[0].IsTypedArray()) throw Napi::TypeError::New(env, "process(x: Float32Array)");
    Napi::Float32Array x = args[0].As<Napi::Float32Array>();
    std::vector<float> y;
    if (x.ElementLength() > 0) stream_->push(x.Data(), x.ElementLength(), &y);
    return emit(env, y);
  }
  Napi::Value Flush(const Napi::CallbackInfo& args) {
    std::vector<float> y;
    if (!done_) stream_->push(nullptr, 0, &y);
    done_ = true;
    return emit(args.Env(), y);
  }
  std::unique_ptr<Stream> stream_;
  bool done_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("decode", Napi::Function::New(env, Decode, "decode"));
  exports.Set("decodeSync", Napi::Function::New(env, DecodeSync, "decodeSync"));
  exports.Set("resample", Napi::Function::New(env, Resample, "resample"));
  exports.Set("Resampler", Resampler::Init(env));
  exports.Set("sndfileVersion", Napi::String::New(env, sf_version_string()));
  exports.Set("soxrVersion", Napi::String::New(env, soxr_version()));
  return exports;
}

}  // namespace

NODE_API_MODULE(audiotag_audio, Init)
