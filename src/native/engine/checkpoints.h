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

// The checkpoint envelope shared by models, super-resolution networks and classifier heads: a
// pickled dict {format, format_version: 1, step, <fields in order>, state_dict}, written to
// path + ".partial" and renamed into place; the optimizer state (a libtorch archive) likewise.
using CheckpointFields = std::vector<std::pair<std::string, c10::IValue>>;
c10::Dict<std::string, at::Tensor> state_dict_of(const torch::nn::Module& net, bool buffers);
void write_checkpoint(const std::string& path, const std::string& format, int64_t step, const CheckpointFields& fields,
                      const c10::Dict<std::string, at::Tensor>& state);
void save_optimizer(torch::optim::Optimizer& optimizer, const std::string& path);
void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& path);

struct CheckpointEnvelope {
    c10::impl::GenericDict root{c10::StringType::get(), c10::AnyType::get()};
    c10::impl::GenericDict state{c10::StringType::get(), c10::AnyType::get()};
    int64_t step = 0;
};
// Reads and checks the envelope: a file that is not a pickle, not a dict or of another format is
// DST_CORRUPT_FILE with "<file> <what>" (e.g. "is not a DeepSentinel checkpoint").
CheckpointEnvelope read_checkpoint(const std::string& file, const std::string& format, const std::string& what);
c10::impl::GenericDict read_dict(const c10::impl::GenericDict& d, const std::string& key, const std::string& file);
// Copies state[name] into target; a missing name, a non-tensor or another shape is DST_CORRUPT_FILE.
void restore_tensor(const c10::impl::GenericDict& state, const std::string& name, torch::Tensor target, const std::string& file);
void restore_module(const c10::impl::GenericDict& state, torch::nn::Module& net, bool buffers, const std::string& file);

}  // namespace ds
