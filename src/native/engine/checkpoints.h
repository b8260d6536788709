#pragma once
// Checkpoints: a pickled dict (torch.load reads it) with format tag, config, step and state dict.
#include "model.h"

namespace ds {

// Writes path + ".partial", then renames it over path.
void write_atomically(const std::string& path, const std::vector<char>& bytes);
std::vector<char> read_file(const std::string& path);
void save_model(Model& m, const std::string& checkpoint, const char* optimizer_path);
std::shared_ptr<Model> load_model(const std::string& file, const char* optimizer_path, int32_t device);

// Reading a checkpoint's dict: a missing key, a wrong type or an out-of-range value is DST_CORRUPT_FILE.
c10::IValue required(const c10::impl::GenericDict& d, const std::string& key, const std::string& file);
int64_t read_int(const c10::impl::GenericDict& d, const std::string& key, const std::string& file);
double read_double(const c10::impl::GenericDict& d, const std::string& key, const std::string& file);
int32_t read_int32(const c10::impl::GenericDict& d, const std::string& key, const std::string& file);

}  // namespace ds
