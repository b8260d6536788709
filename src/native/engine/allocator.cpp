#include "allocator.h"

namespace ds {

namespace {

// A caching CPU allocator. A ResNet step frees and re-allocates the same few dozen large
// activation and gradient buffers (tens of MB each) every step. libtorch's default allocator
// hands them to glibc, which maps every block over 32 MB afresh and unmaps it on free, so each
// step page-faults its whole working set back in (about 10% of the CPU time, most of it in the
// kernel). Here blocks of 1 MiB and more are kept when freed and handed back for the next request
// of the same rounded size (64 KiB steps below 4 MiB, 2 MiB steps above). Smaller requests go to
// libtorch's own allocator unchanged. (Advising the large blocks for transparent huge pages was
// tried and measured slower here: 13.0-13.8 against 13.2-15.1 images/s.)
// The cache is bounded (dst_set_cpu_cache_limit, DEEPSENTINEL_CPU_CACHE_MB) and emptied when the
// last model is freed.

constexpr size_t kCacheMinBlock = size_t(1) << 20;
constexpr size_t kLargeBlock = size_t(4) << 20;

struct BlockCache {
    std::mutex mutex;
    std::unordered_map<void*, size_t> live;               // large blocks in use -> rounded size
    std::unordered_map<size_t, std::vector<void*>> free;  // rounded size -> cached blocks
    size_t cached_bytes = 0, live_bytes = 0, limit = size_t(4) << 30;
    uint64_t hits = 0, misses = 0;
};

BlockCache& block_cache() {
    static BlockCache* cache = [] {
        auto* c = new BlockCache();  // never destroyed: tensors may be freed at exit
        // DEEPSENTINEL_CPU_CACHE_MB overrides the limit (0 turns the cache off).
        if (const char* mb = std::getenv("DEEPSENTINEL_CPU_CACHE_MB")) {
            char* end = nullptr;
            const long long value = std::strtoll(mb, &end, 10);
            if (end != mb && *end == '\0' && value >= 0) c->limit = static_cast<size_t>(value) << 20;
        }
        return c;
    }();
    return *cache;
}

size_t round_block(size_t n) {
    const size_t granule = n >= kLargeBlock ? size_t(2) << 20 : size_t(64) << 10;
    return (n + granule - 1) / granule * granule;
}

void* allocate_block(size_t size) {
    void* p = nullptr;
    if (posix_memalign(&p, 64, size) != 0 || p == nullptr) throw std::bad_alloc();
    return p;
}

void release_block(void* p) {
    if (p == nullptr) return;
    auto& c = block_cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        auto it = c.live.find(p);
        if (it == c.live.end()) {
            // A small block, or one made by libtorch's allocator before this one was installed.
            c10::free_cpu(p);
            return;
        }
        const size_t size = it->second;
        c.live.erase(it);
        c.live_bytes -= size;
        if (c.cached_bytes + size <= c.limit) {
            c.free[size].push_back(p);
            c.cached_bytes += size;
            return;
        }
    }
    std::free(p);  // over the limit: back to the system, outside the lock
}

struct CachingCpuAllocator final : c10::Allocator {
    c10::DataPtr allocate(size_t n) const override {
        if (n < kCacheMinBlock) {
            // Small blocks never touch the cache: freed straight to libtorch's allocator. (Through
            // raw_deleter they reach release_block, which hands unknown blocks to free_cpu too.)
            void* p = c10::alloc_cpu(n);
            return {p, p, &c10::free_cpu, c10::Device(c10::DeviceType::CPU)};
        }
        const size_t size = round_block(n);
        auto& c = block_cache();
        {
            std::lock_guard<std::mutex> lock(c.mutex);
            auto it = c.free.find(size);
            if (it != c.free.end() && !it->second.empty()) {
                void* p = it->second.back();
                it->second.pop_back();
                c.cached_bytes -= size;
                ++c.hits;
                c.live.emplace(p, size);
                c.live_bytes += size;
                return {p, p, &release_block, c10::Device(c10::DeviceType::CPU)};
            }
            ++c.misses;
        }
        void* p = allocate_block(size);  // outside the lock: a new block may take a while
        {
            std::lock_guard<std::mutex> lock(c.mutex);
            c.live.emplace(p, size);
            c.live_bytes += size;
        }
        return {p, p, &release_block, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override { return &release_block; }
};

}  // namespace

void install_cpu_allocator() {
    static std::once_flag once;
    std::call_once(once, [] {
        static CachingCpuAllocator allocator;
        c10::SetCPUAllocator(&allocator, /*priority=*/1);
    });
}

void empty_block_cache() {
    std::vector<void*> doomed;
    auto& c = block_cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        for (auto& bucket : c.free) doomed.insert(doomed.end(), bucket.second.begin(), bucket.second.end());
        c.free.clear();
        c.cached_bytes = 0;
    }
    for (void* p : doomed) std::free(p);
}


void set_block_cache_limit(size_t bytes) {
    auto& c = block_cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    c.limit = bytes;
}

CacheCounters block_cache_counters() {
    auto& c = block_cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    CacheCounters counters;
    counters.cached_bytes = c.cached_bytes;
    counters.live_bytes = c.live_bytes;
    counters.limit = c.limit;
    counters.hits = c.hits;
    counters.misses = c.misses;
    return counters;
}

}  // namespace ds
