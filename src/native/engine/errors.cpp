#include "errors.h"

namespace ds {

namespace {
thread_local std::string t_error;
thread_local bool t_has_error = false;
thread_local int32_t t_status = DST_OK;
}  // namespace

std::string describe(const std::exception& e) {
    if (const auto* c10e = dynamic_cast<const c10::Error*>(&e)) return c10e->what_without_backtrace();
    return e.what();
}

int32_t record(dst_status status, const std::string& message) {
    t_error = message;
    t_has_error = true;
    t_status = status;
    return status;
}


void clear_error() {
    t_has_error = false;
    t_status = DST_OK;
}

const char* last_error() { return t_has_error ? t_error.c_str() : nullptr; }

int32_t last_status() { return t_status; }

}  // namespace ds
