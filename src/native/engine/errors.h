#pragma once
// Errors: a per-thread slot, filled at the ABI boundary; nothing throws across it.
#include "../deepsentinel_torch.h"
#include "pch.h"

namespace ds {

namespace F = torch::nn::functional;

struct DstError : std::runtime_error {
    dst_status status;
    DstError(dst_status s, const std::string& message) : std::runtime_error(message), status(s) {}
};

[[noreturn]] inline void fail(dst_status status, const std::string& message) { throw DstError(status, message); }

template <class... Parts>
std::string msg(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

// libtorch's c10::Error carries a backtrace in what(): users need only the message.
std::string describe(const std::exception& e);

// The calling thread's last failure (read by dst_last_error / dst_last_status).
int32_t record(dst_status status, const std::string& message);
void clear_error();
const char* last_error();
int32_t last_status();

inline bool finite_in(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

// Runs an ABI call's body: every exception becomes a status and a message for the thread.
template <class Body>
int32_t guarded(Body&& body) {
    clear_error();
    try {
        body();
        return DST_OK;
    } catch (const DstError& e) {
        return record(e.status, e.what());
    } catch (const c10::Error& e) {
        return record(DST_INTERNAL, msg("libtorch: ", e.what_without_backtrace()));
    } catch (const std::bad_alloc&) {
        return record(DST_INTERNAL, "out of memory: use a smaller batch or patch size");
    } catch (const std::exception& e) {
        return record(DST_INTERNAL, e.what());
    } catch (...) {
        return record(DST_INTERNAL, "unknown native failure");
    }
}

template <class Body>
int64_t guarded_handle(Body&& body) {
    int64_t handle = 0;
    return guarded([&] { handle = body(); }) == DST_OK ? handle : 0;
}

}  // namespace ds
