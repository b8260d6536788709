#include "checkpoints.h"

namespace ds {

namespace {

const char* kFormat = "deepsentinel-checkpoint";

c10::impl::GenericDict config_dict(const dst_model_config& c) {
    c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
    d.insert("encoder", static_cast<int64_t>(c.encoder));
    d.insert("method", static_cast<int64_t>(c.method));
    d.insert("s2_channels", static_cast<int64_t>(c.s2_channels));
    d.insert("s1_channels", static_cast<int64_t>(c.s1_channels));
    d.insert("embedding_dim", static_cast<int64_t>(c.embedding_dim));
    d.insert("projection_dim", static_cast<int64_t>(c.projection_dim));
    d.insert("unet_width", static_cast<int64_t>(c.unet_width));
    d.insert("channels_last", static_cast<int64_t>(c.channels_last));
    d.insert("seed", c.seed);
    d.insert("learning_rate", c.learning_rate);
    d.insert("weight_decay", c.weight_decay);
    d.insert("temperature", c.temperature);
    d.insert("triplet_margin", c.triplet_margin);
    d.insert("modality_dropout", c.modality_dropout);
    d.insert("band_noise", c.band_noise);
    return d;
}

}  // namespace

c10::IValue required(const c10::impl::GenericDict& d, const std::string& key, const std::string& file) {
    auto it = d.find(key);
    if (it == d.end()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, " lacks '", key, "'"));
    return it->value();
}

int64_t read_int(const c10::impl::GenericDict& d, const std::string& key, const std::string& file) {
    auto v = required(d, key, file);
    if (!v.isInt()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": '", key, "' is not an integer"));
    return v.toInt();
}

double read_double(const c10::impl::GenericDict& d, const std::string& key, const std::string& file) {
    auto v = required(d, key, file);
    if (!v.isDouble() && !v.isInt()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": '", key, "' is not a number"));
    return v.isDouble() ? v.toDouble() : static_cast<double>(v.toInt());
}

int32_t read_int32(const c10::impl::GenericDict& d, const std::string& key, const std::string& file) {
    const int64_t v = read_int(d, key, file);
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": '", key, "' is out of range"));
    return static_cast<int32_t>(v);
}

void write_atomically(const std::string& path, const std::vector<char>& bytes) {
    const std::string temp = path + ".partial";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out) fail(DST_IO_ERROR, msg("cannot write ", temp));
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) fail(DST_IO_ERROR, msg("writing ", temp, " failed (disk full?)"));
    }
    if (std::rename(temp.c_str(), path.c_str()) != 0) fail(DST_IO_ERROR, msg("cannot move ", temp, " to ", path));
}

std::vector<char> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(DST_IO_ERROR, msg("cannot open ", path, " (missing or unreadable)"));
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty()) fail(DST_CORRUPT_FILE, msg(path, " is empty"));
    return bytes;
}

c10::Dict<std::string, at::Tensor> state_dict_of(const torch::nn::Module& net, bool buffers) {
    c10::Dict<std::string, at::Tensor> state;
    for (const auto& p : net.named_parameters()) state.insert(p.key(), p.value().detach().to(torch::kCPU).contiguous());
    if (buffers) {
        for (const auto& b : net.named_buffers()) state.insert(b.key(), b.value().detach().to(torch::kCPU).contiguous());
    }
    return state;
}

void write_checkpoint(const std::string& path, const std::string& format, int64_t step, const CheckpointFields& fields,
                      const c10::Dict<std::string, at::Tensor>& state) {
    c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
    root.insert("format", format);
    root.insert("format_version", static_cast<int64_t>(1));
    root.insert("step", step);
    for (const auto& f : fields) root.insert(f.first, f.second);
    root.insert("state_dict", state);
    write_atomically(path, torch::pickle_save(root));
}

void save_optimizer(torch::optim::Optimizer& optimizer, const std::string& path) {
    const std::string temp = path + ".partial";
    try {
        torch::save(optimizer, temp);
    } catch (const std::exception& e) {
        std::remove(temp.c_str());
        fail(DST_IO_ERROR, msg("cannot write the optimizer state ", temp, ": ", describe(e)));
    }
    if (std::rename(temp.c_str(), path.c_str()) != 0) fail(DST_IO_ERROR, msg("cannot move ", temp, " to ", path));
}

void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& path) {
    try {
        torch::load(optimizer, path);
    } catch (const std::exception& e) {
        fail(DST_CORRUPT_FILE, msg("optimizer state ", path, " is unreadable: ", describe(e)));
    }
}

CheckpointEnvelope read_checkpoint(const std::string& file, const std::string& format, const std::string& what) {
    const auto bytes = read_file(file);
    c10::IValue root;
    try {
        root = torch::pickle_load(bytes);
    } catch (const std::exception& e) {
        fail(DST_CORRUPT_FILE, msg(file, " is not a readable checkpoint (damaged, or ", what, "): ", describe(e)));
    }
    if (!root.isGenericDict()) fail(DST_CORRUPT_FILE, msg(file, " ", what));
    CheckpointEnvelope env;
    env.root = root.toGenericDict();
    auto tag = required(env.root, "format", file);
    if (!tag.isString() || tag.toStringRef() != format) fail(DST_CORRUPT_FILE, msg(file, " ", what));
    if (read_int(env.root, "format_version", file) != 1) fail(DST_CORRUPT_FILE, msg(file, " has a newer checkpoint format than this library reads"));
    env.state = read_dict(env.root, "state_dict", file);
    env.step = read_int(env.root, "step", file);
    if (env.step < 0) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, " has a negative step"));
    return env;
}

c10::impl::GenericDict read_dict(const c10::impl::GenericDict& d, const std::string& key, const std::string& file) {
    auto v = required(d, key, file);
    if (!v.isGenericDict()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": '", key, "' is not a dict"));
    return v.toGenericDict();
}

void restore_tensor(const c10::impl::GenericDict& state, const std::string& name, torch::Tensor target, const std::string& file) {
    auto v = required(state, name, file);
    if (!v.isTensor()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": '", name, "' is not a tensor"));
    const auto& t = v.toTensor();
    if (t.sizes() != target.sizes()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": '", name, "' has shape ", t.sizes(), ", the network needs ", target.sizes()));
    torch::NoGradGuard no_grad;
    target.copy_(t);
}

void restore_module(const c10::impl::GenericDict& state, torch::nn::Module& net, bool buffers, const std::string& file) {
    for (auto& p : net.named_parameters()) restore_tensor(state, p.key(), p.value(), file);
    if (buffers) {
        for (auto& b : net.named_buffers()) restore_tensor(state, b.key(), b.value(), file);
    }
}

void save_model(Model& m, const std::string& checkpoint, const char* optimizer_path) {
    write_checkpoint(checkpoint, kFormat, m.step, {{"config", config_dict(m.cfg)}}, state_dict_of(*m.net, true));
    if (optimizer_path != nullptr) save_optimizer(*m.optimizer, optimizer_path);
}

std::shared_ptr<Model> load_model(const std::string& file, const char* optimizer_path, int32_t device) {
    const auto env = read_checkpoint(file, kFormat, "is not a DeepSentinel checkpoint");
    const auto c = read_dict(env.root, "config", file);
    dst_model_config cfg{};
    cfg.struct_size = sizeof(dst_model_config);
    cfg.encoder = read_int32(c, "encoder", file);
    cfg.method = read_int32(c, "method", file);
    cfg.s2_channels = read_int32(c, "s2_channels", file);
    cfg.s1_channels = read_int32(c, "s1_channels", file);
    cfg.embedding_dim = read_int32(c, "embedding_dim", file);
    cfg.projection_dim = read_int32(c, "projection_dim", file);
    cfg.unet_width = read_int32(c, "unet_width", file);
    cfg.channels_last = read_int32(c, "channels_last", file);
    cfg.seed = read_int(c, "seed", file);
    cfg.learning_rate = read_double(c, "learning_rate", file);
    cfg.weight_decay = read_double(c, "weight_decay", file);
    cfg.temperature = read_double(c, "temperature", file);
    cfg.triplet_margin = read_double(c, "triplet_margin", file);
    cfg.modality_dropout = read_double(c, "modality_dropout", file);
    cfg.band_noise = read_double(c, "band_noise", file);
    cfg.device = device;
    try {
        validate_config(cfg);
    } catch (const DstError& e) {
        if (e.status == DST_INVALID_ARGUMENT) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, " has an invalid config: ", e.what()));
        throw;
    }
    auto model = build_model(cfg);
    restore_module(env.state, *model->net, true, file);
    model->step = env.step;
    if (optimizer_path != nullptr) load_optimizer(*model->optimizer, optimizer_path);
    // A different seed stream after a resume: the augmentations must not replay from step 0.
    model->rng.seed(static_cast<uint64_t>(cfg.seed) ^ static_cast<uint64_t>(model->step) * 0x9E3779B97F4A7C15ull);
    model->generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(cfg.seed) + 1 + static_cast<uint64_t>(model->step));
    return model;
}

}  // namespace ds
