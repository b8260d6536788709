// The C ABI: the library's version, errors, threads, CPU cache and devices.
#include "../engine/allocator.h"

using namespace ds;

namespace {

std::string version_text() {
    return msg("deepsentinel_torch 0.1.0 (abi ", DST_ABI_VERSION, "); libtorch ", TORCH_VERSION, "; cuda ", torch::cuda::is_available() ? "available" : "not available");
}

}  // namespace

extern "C" {

DST_API int32_t dst_abi_version(void) { return DST_ABI_VERSION; }

DST_API const char* dst_version(void) {
    static const std::string text = [] {
        try {
            return version_text();
        } catch (...) {
            return std::string("deepsentinel_torch 0.1.0");
        }
    }();
    return text.c_str();
}

DST_API const char* dst_last_error(void) { return last_error(); }

DST_API int32_t dst_last_status(void) { return last_status(); }

DST_API int32_t dst_set_num_threads(int32_t threads) {
    return guarded([&] {
        if (threads < 1 || threads > 4096) fail(DST_INVALID_ARGUMENT, msg("thread count must be 1-4096, got ", threads));
        at::set_num_threads(threads);
    });
}

DST_API int32_t dst_get_num_threads(void) { return at::get_num_threads(); }

DST_API int32_t dst_set_cpu_cache_limit(int64_t bytes) {
    return guarded([&] {
        if (bytes < 0) fail(DST_INVALID_ARGUMENT, msg("the CPU cache limit must be 0 or more bytes, got ", bytes));
        set_block_cache_limit(static_cast<size_t>(bytes));
        if (bytes == 0) empty_block_cache();
    });
}

DST_API int32_t dst_cpu_cache_stats(dst_cache_stats* stats) {
    return guarded([&] {
        if (stats == nullptr) fail(DST_INVALID_ARGUMENT, "the stats output is null");
        if (stats->struct_size != static_cast<int32_t>(sizeof(dst_cache_stats)))
            fail(DST_INVALID_ARGUMENT, msg("stats has struct_size ", stats->struct_size, ", expected ", sizeof(dst_cache_stats)));
        const auto c = block_cache_counters();
        stats->hits = static_cast<int64_t>(c.hits);
        stats->misses = static_cast<int64_t>(c.misses);
        stats->cached_bytes = static_cast<int64_t>(c.cached_bytes);
        stats->live_bytes = static_cast<int64_t>(c.live_bytes);
        stats->limit_bytes = static_cast<int64_t>(c.limit);
    });
}

DST_API int32_t dst_cuda_device_count(void) {
    int32_t count = 0;
    guarded([&] { count = static_cast<int32_t>(torch::cuda::device_count()); });
    return count;
}

}  // extern "C"
