// The C ABI of the super-resolution networks (dst_sr_*; see deepsentinel_torch.h): handles,
// training steps with an L1 loss and Adam, tiled-inference calls and checkpoints.
#include "../engine/allocator.h"
#include "../engine/checkpoints.h"
#include "../models/dsen2.h"

using namespace ds;

namespace {

struct SrModel {
    std::mutex mutex;  // one call at a time per model
    dst_sr_config cfg{};
    DSen2 net{nullptr};
    std::unique_ptr<torch::optim::Adam> optimizer;
    torch::Device device{torch::kCPU};
    int64_t step = 0;
    int64_t out_channels() const { return cfg.factor == 2 ? cfg.mid_channels : cfg.coarse_channels; }
};

std::mutex g_sr_mutex;
std::unordered_map<int64_t, std::shared_ptr<SrModel>> g_sr_models;
// A range of their own, so that a super-resolution handle given to dst_model_* (or a model handle
// given to dst_sr_*) is an unknown handle, never another object.
int64_t g_sr_next = int64_t(1) << 40;

const char* kSrFormat = "deepsentinel-superres";

std::shared_ptr<SrModel> sr_lookup(int64_t handle) {
    if (handle == 0) fail(DST_INVALID_HANDLE, "the super-resolution model handle is null");
    std::lock_guard<std::mutex> lock(g_sr_mutex);
    auto it = g_sr_models.find(handle);
    if (it == g_sr_models.end()) fail(DST_INVALID_HANDLE, msg("handle ", handle, " does not refer to a live super-resolution model (it was freed or never created)"));
    return it->second;
}

void validate_sr_config(const dst_sr_config& c) {
    if (c.struct_size != static_cast<int32_t>(sizeof(dst_sr_config)))
        fail(DST_INVALID_ARGUMENT, msg("super-resolution config has struct_size ", c.struct_size, ", expected ", sizeof(dst_sr_config), " (mismatched library version)"));
    if (c.factor != 2 && c.factor != 6) fail(DST_INVALID_ARGUMENT, msg("the factor must be 2 (20 m bands) or 6 (60 m bands), got ", c.factor));
    if (c.blocks < 1 || c.blocks > 128) fail(DST_INVALID_ARGUMENT, msg("residual blocks must be 1-128, got ", c.blocks));
    if (c.features < 4 || c.features > 1024) fail(DST_INVALID_ARGUMENT, msg("features must be 4-1024, got ", c.features));
    if (c.fine_channels < 1 || c.fine_channels > 32 || c.mid_channels < 1 || c.mid_channels > 32)
        fail(DST_INVALID_ARGUMENT, msg("fine and mid channel counts must be 1-32, got ", c.fine_channels, " and ", c.mid_channels));
    if (c.factor == 6 ? (c.coarse_channels < 1 || c.coarse_channels > 32) : c.coarse_channels != 0)
        fail(DST_INVALID_ARGUMENT, msg("coarse channels must be 1-32 for the 6x model and 0 for the 2x model, got ", c.coarse_channels));
    if (c.device != DST_CPU && c.device != DST_CUDA) fail(DST_INVALID_ARGUMENT, msg("unknown device ", c.device));
    if (!finite_in(c.learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("learning rate must be in (0, 10], got ", c.learning_rate));
    if (!finite_in(c.input_scale, 1e-6, 1e9)) fail(DST_INVALID_ARGUMENT, msg("input scale must be positive, got ", c.input_scale));
}

std::shared_ptr<SrModel> build_sr(const dst_sr_config& cfg) {
    validate_sr_config(cfg);
    install_cpu_allocator();
    auto m = std::make_shared<SrModel>();
    m->cfg = cfg;
    m->device = resolve_device(cfg.device);
    m->net = DSen2(cfg.factor, cfg.fine_channels, cfg.mid_channels, cfg.coarse_channels, cfg.blocks, cfg.features, cfg.input_scale);
    // Initialised from a generator of the model's own: the weights depend on the seed alone, not
    // on libtorch's global generator that other models in the process draw from.
    auto generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(cfg.seed));
    m->net->initialise(generator);
    m->net->to(m->device);
    m->optimizer = std::make_unique<torch::optim::Adam>(m->net->parameters(), torch::optim::AdamOptions(cfg.learning_rate));
    m->net->train();
    return m;
}

int64_t register_sr(std::shared_ptr<SrModel> m) {
    std::lock_guard<std::mutex> lock(g_sr_mutex);
    const int64_t handle = g_sr_next++;
    g_sr_models.emplace(handle, std::move(m));
    return handle;
}

int64_t product(std::initializer_list<int64_t> parts) {
    int64_t n = 1;
    for (auto p : parts) {
        if (p <= 0 || n > std::numeric_limits<int64_t>::max() / p) fail(DST_INVALID_ARGUMENT, "the batch is too large");
        n *= p;
    }
    return n;
}

struct SrInput {
    torch::Tensor fine, mid, coarse;
};

void check_plane(const char* name, const float* data, int64_t length, int64_t expected) {
    if (data == nullptr) fail(DST_INVALID_ARGUMENT, msg("the ", name, " bands are null"));
    if (length != expected) fail(DST_INVALID_ARGUMENT, msg("the ", name, " bands hold ", length, " values; ", expected, " are needed"));
}

torch::Tensor copy_in(const float* data, std::initializer_list<int64_t> shape, const torch::Device& device) {
    // from_blob only as the source of a copy: nothing outlives the call over caller memory.
    return torch::from_blob(const_cast<float*>(data), std::vector<int64_t>(shape), torch::kFloat32).to(device, false, true);
}

SrInput validate_sr_batch(const SrModel& m, const dst_sr_batch* b) {
    if (b == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
    if (b->struct_size != static_cast<int32_t>(sizeof(dst_sr_batch)))
        fail(DST_INVALID_ARGUMENT, msg("batch has struct_size ", b->struct_size, ", expected ", sizeof(dst_sr_batch)));
    const int64_t f = m.cfg.factor;
    if (b->batch < 1 || b->batch > 4096) fail(DST_INVALID_ARGUMENT, msg("batch size must be 1-4096, got ", b->batch));
    if (b->height < f || b->width < f || b->height > 16384 || b->width > 16384 || b->height % f != 0 || b->width % f != 0)
        fail(DST_INVALID_ARGUMENT, msg("a ", f, "x model needs a height and width (", b->height, " x ", b->width, ") that are multiples of ", f, ", between ", f, " and 16384"));
    const int64_t B = b->batch, H = b->height, W = b->width;
    check_plane("10 m", b->fine, b->fine_length, product({B, m.cfg.fine_channels, H, W}));
    check_plane("20 m", b->mid, b->mid_length, product({B, m.cfg.mid_channels, H / 2, W / 2}));
    SrInput in;
    in.fine = copy_in(b->fine, {B, m.cfg.fine_channels, H, W}, m.device);
    in.mid = copy_in(b->mid, {B, m.cfg.mid_channels, H / 2, W / 2}, m.device);
    if (f == 6) {
        check_plane("60 m", b->coarse, b->coarse_length, product({B, m.cfg.coarse_channels, H / 6, W / 6}));
        in.coarse = copy_in(b->coarse, {B, m.cfg.coarse_channels, H / 6, W / 6}, m.device);
    } else if (b->coarse != nullptr) {
        fail(DST_INVALID_ARGUMENT, "a 2x model takes no 60 m bands: pass null");
    }
    return in;
}

c10::impl::GenericDict sr_config_dict(const dst_sr_config& c) {
    c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
    d.insert("factor", static_cast<int64_t>(c.factor));
    d.insert("blocks", static_cast<int64_t>(c.blocks));
    d.insert("features", static_cast<int64_t>(c.features));
    d.insert("fine_channels", static_cast<int64_t>(c.fine_channels));
    d.insert("mid_channels", static_cast<int64_t>(c.mid_channels));
    d.insert("coarse_channels", static_cast<int64_t>(c.coarse_channels));
    d.insert("seed", c.seed);
    d.insert("learning_rate", c.learning_rate);
    d.insert("input_scale", c.input_scale);
    d.insert("residual_scaling", 0.1);
    d.insert("loss", std::string("l1"));
    d.insert("optimizer", std::string("adam"));
    return d;
}

void save_sr(SrModel& m, const std::string& checkpoint, const char* optimizer_path) {
    write_checkpoint(checkpoint, kSrFormat, m.step, {{"config", sr_config_dict(m.cfg)}}, state_dict_of(*m.net, false));
    if (optimizer_path != nullptr) save_optimizer(*m.optimizer, optimizer_path);
}

std::shared_ptr<SrModel> load_sr(const std::string& file, const char* optimizer_path, int32_t device) {
    const auto env = read_checkpoint(file, kSrFormat, "is not a super-resolution checkpoint (an embedding model? load it with Import-EmbeddingModel)");
    const auto c = read_dict(env.root, "config", file);
    dst_sr_config cfg{};
    cfg.struct_size = sizeof(dst_sr_config);
    cfg.factor = read_int32(c, "factor", file);
    cfg.blocks = read_int32(c, "blocks", file);
    cfg.features = read_int32(c, "features", file);
    cfg.fine_channels = read_int32(c, "fine_channels", file);
    cfg.mid_channels = read_int32(c, "mid_channels", file);
    cfg.coarse_channels = read_int32(c, "coarse_channels", file);
    cfg.seed = read_int(c, "seed", file);
    cfg.learning_rate = read_double(c, "learning_rate", file);
    cfg.input_scale = read_double(c, "input_scale", file);
    cfg.device = device;
    try {
        validate_sr_config(cfg);
    } catch (const DstError& e) {
        if (e.status == DST_INVALID_ARGUMENT) fail(DST_CORRUPT_FILE, msg("checkpoint ", file, " has an invalid config: ", e.what()));
        throw;
    }
    auto m = build_sr(cfg);
    restore_module(env.state, *m->net, false, file);
    m->step = env.step;
    if (optimizer_path != nullptr) load_optimizer(*m->optimizer, optimizer_path);
    return m;
}

}  // namespace

extern "C" {

DST_API int64_t dst_sr_create(const dst_sr_config* config) {
    return guarded_handle([&] {
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, "the super-resolution config is null");
        return register_sr(build_sr(*config));
    });
}

DST_API int64_t dst_sr_load(const char* checkpoint_path, const char* optimizer_path, int32_t device) {
    return guarded_handle([&] {
        if (checkpoint_path == nullptr) fail(DST_INVALID_ARGUMENT, "the checkpoint path is null");
        return register_sr(load_sr(checkpoint_path, optimizer_path, device));
    });
}

DST_API int32_t dst_sr_free(int64_t model) {
    return guarded([&] {
        std::shared_ptr<SrModel> doomed;
        bool last = false;
        {
            std::lock_guard<std::mutex> lock(g_sr_mutex);
            auto it = g_sr_models.find(model);
            if (model == 0 || it == g_sr_models.end()) fail(DST_INVALID_HANDLE, msg("handle ", model, " does not refer to a live super-resolution model"));
            doomed = std::move(it->second);
            g_sr_models.erase(it);
            last = g_sr_models.empty();
        }
        // Wait for a call in flight on another thread before the model goes.
        { std::lock_guard<std::mutex> lock(doomed->mutex); }
        doomed.reset();
        if (last) empty_block_cache();  // the blocks come back on the next step of any model
    });
}

DST_API int32_t dst_sr_get_config(int64_t model, dst_sr_config* config) {
    return guarded([&] {
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, "the config pointer is null");
        if (config->struct_size != static_cast<int32_t>(sizeof(dst_sr_config))) fail(DST_INVALID_ARGUMENT, "the config's struct_size does not match this library");
        auto m = sr_lookup(model);
        *config = m->cfg;
    });
}

DST_API int64_t dst_sr_step(int64_t model) {
    int64_t step = -1;
    guarded([&] {
        auto m = sr_lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        step = m->step;
    });
    return step;
}

DST_API int32_t dst_sr_parameter_count(int64_t model, int64_t* count) {
    return guarded([&] {
        if (count == nullptr) fail(DST_INVALID_ARGUMENT, "the count pointer is null");
        auto m = sr_lookup(model);
        int64_t n = 0;
        for (const auto& p : m->net->parameters()) n += p.numel();
        *count = n;
    });
}

DST_API int32_t dst_sr_set_learning_rate(int64_t model, double learning_rate) {
    return guarded([&] {
        if (!finite_in(learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("learning rate must be in (0, 10], got ", learning_rate));
        auto m = sr_lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        for (auto& group : m->optimizer->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(learning_rate);
        m->cfg.learning_rate = learning_rate;
    });
}

DST_API int32_t dst_sr_train_step(int64_t model, const dst_sr_batch* batch, float* loss) {
    return guarded([&] {
        if (loss == nullptr) fail(DST_INVALID_ARGUMENT, "the loss pointer is null");
        auto m = sr_lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        auto in = validate_sr_batch(*m, batch);
        const int64_t B = batch->batch, H = batch->height, W = batch->width;
        check_plane("target", batch->target, batch->target_length, product({B, m->out_channels(), H, W}));
        auto target = copy_in(batch->target, {B, m->out_channels(), H, W}, m->device);
        m->net->train();
        m->optimizer->zero_grad();
        auto output = m->net->forward(in.fine, in.mid, in.coarse);
        auto l = torch::l1_loss(output, target / m->cfg.input_scale);
        const float value = l.item<float>();
        if (!std::isfinite(value)) fail(DST_INTERNAL, msg("the loss is not finite (", value, ") at step ", m->step, ": lower the learning rate"));
        l.backward();
        m->optimizer->step();
        ++m->step;
        *loss = value;
    });
}

DST_API int32_t dst_sr_predict(int64_t model, const dst_sr_batch* batch, float* output, int64_t output_length) {
    return guarded([&] {
        if (output == nullptr) fail(DST_INVALID_ARGUMENT, "the output pointer is null");
        auto m = sr_lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        auto in = validate_sr_batch(*m, batch);
        const int64_t needed = product({batch->batch, m->out_channels(), batch->height, batch->width});
        if (output_length != needed) fail(DST_INVALID_ARGUMENT, msg("the output holds ", output_length, " values; ", needed, " are needed"));
        torch::InferenceMode guard;
        m->net->eval();
        auto y = (m->net->forward(in.fine, in.mid, in.coarse) * m->cfg.input_scale).to(torch::kCPU).contiguous();
        std::memcpy(output, y.data_ptr<float>(), static_cast<size_t>(needed) * sizeof(float));
        m->net->train();
    });
}

DST_API int32_t dst_sr_save(int64_t model, const char* checkpoint_path, const char* optimizer_path) {
    return guarded([&] {
        if (checkpoint_path == nullptr) fail(DST_INVALID_ARGUMENT, "the checkpoint path is null");
        auto m = sr_lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        save_sr(*m, checkpoint_path, optimizer_path);
    });
}

}  // extern "C"
