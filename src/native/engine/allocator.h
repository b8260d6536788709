#pragma once
// The engine's caching CPU allocator for large blocks (see allocator.cpp for why).
#include "errors.h"

namespace ds {

struct CacheCounters {
    size_t cached_bytes = 0, live_bytes = 0, limit = 0;
    uint64_t hits = 0, misses = 0;
};

void install_cpu_allocator();
void empty_block_cache();
void set_block_cache_limit(size_t bytes);
CacheCounters block_cache_counters();

}  // namespace ds
