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

void save_model(Model& m, const std::string& checkpoint, const char* optimizer_path) {
    c10::Dict<std::string, at::Tensor> state;
    for (const auto& p : m.net->named_parameters()) state.insert(p.key(), p.value().detach().to(torch::kCPU).contiguous());
    for (const auto& b : m.net->named_buffers()) state.insert(b.key(), b.value().detach().to(torch::kCPU).contiguous());
    c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
    root.insert("format", std::string(kFormat));
    root.insert("format_version", static_cast<int64_t>(1));
    root.insert("step", m.step);
    root.insert("config", config_dict(m.cfg));
    root.insert("state_dict", state);
    write_atomically(checkpoint, torch::pickle_save(root));
    if (optimizer_path != nullptr) {
        const std::string path(optimizer_path), temp = path + ".partial";
        torch::save(*m.optimizer, temp);
        if (std::rename(temp.c_str(), path.c_str()) != 0) fail(DST_IO_ERROR, msg("cannot move ", temp, " to ", path));
    }
}

std::shared_ptr<Model> load_model(const std::string& file, const char* optimizer_path, int32_t device) {
    const auto bytes = read_file(file);
    c10::IValue root;
    try {
        root = torch::pickle_load(bytes);
    } catch (const std::exception& e) {
        fail(DST_CORRUPT_FILE, msg(file, " is not a readable checkpoint (damaged or not a DeepSentinel model): ", describe(e)));
    }
    if (!root.isGenericDict()) fail(DST_CORRUPT_FILE, msg(file, " is not a DeepSentinel checkpoint"));
    const auto dict = root.toGenericDict();
    auto format = required(dict, "format", file);
    if (!format.isString() || format.toStringRef() != kFormat) fail(DST_CORRUPT_FILE, msg(file, " is not a DeepSentinel checkpoint"));
    if (read_int(dict, "format_version", file) != 1) fail(DST_CORRUPT_FILE, msg(file, " has a newer checkpoint format than this library reads"));
    auto config_value = required(dict, "config", file);
    if (!config_value.isGenericDict()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": 'config' is not a dict"));
    const auto c = config_value.toGenericDict();
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
    auto state_value = required(dict, "state_dict", file);
    if (!state_value.isGenericDict()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": 'state_dict' is not a dict"));
    const auto state = state_value.toGenericDict();
    torch::NoGradGuard no_grad;
    auto restore = [&](const std::string& name, torch::Tensor& target) {
        auto v = required(state, name, file);
        if (!v.isTensor()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": '", name, "' is not a tensor"));
        const auto& t = v.toTensor();
        if (t.sizes() != target.sizes()) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, ": '", name, "' has shape ", t.sizes(), ", the model needs ", target.sizes()));
        target.copy_(t);
    };
    for (auto& p : model->net->named_parameters()) restore(p.key(), p.value());
    for (auto& b : model->net->named_buffers()) restore(b.key(), b.value());
    model->step = read_int(dict, "step", file);
    if (model->step < 0) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, " has a negative step"));
    if (optimizer_path != nullptr) {
        try {
            torch::load(*model->optimizer, std::string(optimizer_path));
        } catch (const std::exception& e) {
            fail(DST_CORRUPT_FILE, msg("optimizer state ", optimizer_path, " is unreadable: ", describe(e)));
        }
    }
    // A different seed stream after a resume: the augmentations must not replay from step 0.
    model->rng.seed(static_cast<uint64_t>(cfg.seed) ^ static_cast<uint64_t>(model->step) * 0x9E3779B97F4A7C15ull);
    model->generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(cfg.seed) + 1 + static_cast<uint64_t>(model->step));
    return model;
}

}  // namespace ds
