// A caching CPU allocator for libtorch: freed tensor memory is kept, mapped and already faulted in, and
// handed to the next tensor of the same size class, instead of going back to the kernel.
//
// Why (docs/engine.md, Memory): glibc gives blocks above its mmap threshold (128 KiB rising to 32 MiB)
// back with munmap, and a training step frees and reallocates hundreds of activation-sized tensors; on
// these virtual machines faulting the pages back in cost more than the convolutions (a CNN-model-1 step:
// 3.1-3.8 s against 1.1 s). Raising glibc's thresholds with mallopt alone removes the faults but
// fragments the heap: a 64 MiB tensor allocated and freed in a loop grew the heap to ~560 MiB before
// glibc reused a block. Here a freed block goes to an exact size-class free list, so the memory held is
// the program's peak working set plus at most the cache limit, and a block is reused at once.
//
// Blocks of at least kMinCached bytes are mapped with mmap and cached (bounded: least recently freed
// blocks are unmapped first when the free bytes exceed the limit, RAM/4 by default or
// AUDIOTAG_CPU_CACHE_MB). Smaller ones come from malloc. Every block carries a 64-byte header (its
// size and origin), so the same deleter frees both kinds and raw_allocate/raw_deallocate (used by
// oneDNN through ideep) work. The allocator is registered for DeviceType::CPU at addon load, before any
// tensor exists, so it covers every tensor of the process and every thread.
#include "common.h"

#include <c10/core/CPUAllocator.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <list>
#include <map>
#include <mutex>

namespace audiotag {

namespace {

constexpr size_t kHeader = 64;  // keeps the data 64-byte aligned, as c10's allocator does
constexpr size_t kMinCached = size_t{1} << 20;
constexpr uint64_t kMagicMapped = 0xa11c0ca7ed000001ull;
constexpr uint64_t kMagicMalloc = 0xa11c0ca7ed000002ull;

struct Header {
  uint64_t magic;
  uint64_t bytes;  // the whole mapping (header included) for mapped blocks
};

// Size classes above 1 MiB: 8 steps per power of two (at most 12.5 % rounding), page multiples.
size_t SizeClass(size_t n) {
  size_t need = n + kHeader;
  size_t p = size_t{1} << (63 - __builtin_clzll(need));  // largest power of two <= need
  size_t step = p / 8;
  size_t r = (need + step - 1) / step * step;
  const size_t page = 4096;
  return (r + page - 1) / page * page;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    void* p = Alloc(n);
    return {p, p, &Delete, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }

  static CachingCpuAllocator& Get() {
    static CachingCpuAllocator* a = new CachingCpuAllocator();  // never destroyed: tensors may outlive exit
    return *a;
  }

  struct Stats {
    size_t mappedBytes, cachedBytes, limitBytes, hits, misses, evictions;
  };
  Stats stats() {
    std::lock_guard<std::mutex> g(mu_);
    return {mapped_, cached_, limit_, hits_, misses_, evictions_};
  }
  void setLimit(size_t bytes) {
    std::lock_guard<std::mutex> g(mu_);
    limit_ = bytes;
    EvictLocked(0);
  }
  void empty() {
    std::lock_guard<std::mutex> g(mu_);
    EvictLocked(static_cast<size_t>(-1));
  }

 private:
  struct Block {
    void* base;
    size_t bytes;
  };

  void* Alloc(size_t n) const {
    auto* self = const_cast<CachingCpuAllocator*>(this);
    if (n + kHeader < kMinCached) {
      void* base = nullptr;
      if (posix_memalign(&base, kHeader, n + kHeader) != 0 || base == nullptr)
        throw std::bad_alloc();
      *static_cast<Header*>(base) = {kMagicMalloc, n + kHeader};
      return static_cast<char*>(base) + kHeader;
    }
    size_t bytes = SizeClass(n);
    void* base = self->TakeCached(bytes);
    if (base == nullptr) {
      base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) {
        // Out of address space or memory: drop the cache and try once more.
        self->empty();
        base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) throw std::bad_alloc();
      }
      std::lock_guard<std::mutex> g(self->mu_);
      self->mapped_ += bytes;
    }
    *static_cast<Header*>(base) = {kMagicMapped, bytes};
    return static_cast<char*>(base) + kHeader;
  }

  static void Delete(void* p) {
    if (p == nullptr) return;
    void* base = static_cast<char*>(p) - kHeader;
    Header h = *static_cast<Header*>(base);
    if (h.magic == kMagicMalloc) {
      std::free(base);
    } else if (h.magic == kMagicMapped) {
      Get().Release(base, h.bytes);
    } else {
      // Not ours: cannot happen for tensors (each DataPtr carries its own deleter); be loud, not corrupt.
      std::fprintf(stderr, "audiotag: CPU allocator asked to free a block it did not allocate\n");
      std::abort();
    }
  }

  void* TakeCached(size_t bytes) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = bySize_.find(bytes);
    if (it == bySize_.end()) {
      ++misses_;
      return nullptr;
    }
    ++hits_;
    auto lit = it->second;
    void* base = lit->base;
    bySize_.erase(it);
    lru_.erase(lit);
    cached_ -= bytes;
    return base;
  }

  void Release(void* base, size_t bytes) {
    std::lock_guard<std::mutex> g(mu_);
    if (bytes > limit_) {
      munmap(base, bytes);
      mapped_ -= bytes;
      return;
    }
    EvictLocked(bytes);
    lru_.push_front({base, bytes});
    bySize_.emplace(bytes, lru_.begin());
    cached_ += bytes;
  }

  // Unmaps the least recently freed blocks until `incoming` more bytes fit under the limit.
  void EvictLocked(size_t incoming) {
    while (!lru_.empty() && (incoming == static_cast<size_t>(-1) || cached_ + incoming > limit_)) {
      Block b = lru_.back();
      auto range = bySize_.equal_range(b.bytes);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second == std::prev(lru_.end())) {
          bySize_.erase(it);
          break;
        }
      }
      lru_.pop_back();
      munmap(b.base, b.bytes);
      cached_ -= b.bytes;
      mapped_ -= b.bytes;
      ++evictions_;
    }
  }

  CachingCpuAllocator() {
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    limit_ = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : size_t{2} << 30;
    const char* mb = std::getenv("AUDIOTAG_CPU_CACHE_MB");
    if (mb != nullptr && *mb != '\0') limit_ = static_cast<size_t>(std::strtoull(mb, nullptr, 10)) << 20;
  }

  std::mutex mu_;
  std::list<Block> lru_;  // most recently freed first
  std::multimap<size_t, std::list<Block>::iterator> bySize_;
  size_t mapped_ = 0, cached_ = 0, limit_ = 0, hits_ = 0, misses_ = 0, evictions_ = 0;
};

bool g_installed = false;

const OpEntry kOps[] = {
    // cpuCacheStats(): the caching allocator's counters (all zero when it is not installed).
    OP("cpuCacheStats", {
      Napi::Object o = Napi::Object::New(info.Env());
      auto s = g_installed ? CachingCpuAllocator::Get().stats() : CachingCpuAllocator::Stats{};
      o.Set("installed", g_installed);
      o.Set("mappedBytes", static_cast<double>(s.mappedBytes));
      o.Set("cachedBytes", static_cast<double>(s.cachedBytes));
      o.Set("limitBytes", static_cast<double>(s.limitBytes));
      o.Set("hits", static_cast<double>(s.hits));
      o.Set("misses", static_cast<double>(s.misses));
      o.Set("evictions", static_cast<double>(s.evictions));
      return o;
    }),
    OP("emptyCpuCache", {
      if (g_installed) CachingCpuAllocator::Get().empty();
      return Nothing(info);
    }),
    OP("setCpuCacheLimit", {
      double mb = D(info, 0);
      if (!(mb >= 0)) throw ArgError("cache limit must be a non-negative number of MiB");
      if (g_installed) CachingCpuAllocator::Get().setLimit(static_cast<size_t>(mb * 1048576.0));
      return Nothing(info);
    }),
};

}  // namespace

bool InstallCpuAllocator() {
  if (g_installed) return true;
  // Priority 1 beats c10's default CPU allocator (registered at priority 0).
  c10::SetAllocator(c10::DeviceType::CPU, &CachingCpuAllocator::Get(), 1);
  g_installed = c10::GetAllocator(c10::DeviceType::CPU) == &CachingCpuAllocator::Get();
  return g_installed;
}

void RegisterAllocator(Napi::Env env, Napi::Object exports) { Define(env, exports, kOps); }

}  // namespace audiotag
