#include "segmenter.h"

#include "batch.h"
#include "checkpoints.h"
#include "optimizer.h"
#include "heads.h"

namespace ds {

namespace {
// Segmenter ids count down from 2^62: never a model id (counting up from 1) nor a classifier id
// (counting down from the top of the range), so a handle of another kind is an error.
HeadRegistry<Segmenter> g_segmenters(int64_t{1} << 62, "segmenter");
const char* kHeadFormat = "deepsentinel-segmentation-head";

void validate(const dst_segmenter_config& c) {
    if (c.struct_size != static_cast<int32_t>(sizeof(dst_segmenter_config)))
        fail(DST_INVALID_ARGUMENT, msg("segmenter config has struct_size ", c.struct_size, ", expected ", sizeof(dst_segmenter_config), " (mismatched library version)"));
    if (c.classes < 2 || c.classes > 1000) fail(DST_INVALID_ARGUMENT, msg("a segmenter needs 2-1000 classes, got ", c.classes));
    if (c.freeze_encoder != 0 && c.freeze_encoder != 1) fail(DST_INVALID_ARGUMENT, "freeze_encoder must be 0 or 1");
    if (c.reserved != 0) fail(DST_INVALID_ARGUMENT, "the reserved field must be 0");
    if (!finite_in(c.head_learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("head learning rate must be in (0, 10], got ", c.head_learning_rate));
    if (!finite_in(c.encoder_learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("encoder learning rate must be in (0, 10], got ", c.encoder_learning_rate));
    if (!finite_in(c.weight_decay, 0.0, 1.0)) fail(DST_INVALID_ARGUMENT, msg("weight decay must be 0-1, got ", c.weight_decay));
}

std::vector<torch::Tensor> params_of(std::initializer_list<torch::nn::Module*> modules) {
    std::vector<torch::Tensor> all;
    for (auto* m : modules) {
        auto p = m->parameters();
        all.insert(all.end(), p.begin(), p.end());
    }
    return all;
}

std::vector<torch::Tensor> encoder_path(UNetImpl& u) { return params_of({u.enc1.ptr().get(), u.enc2.ptr().get(), u.enc3.ptr().get(), u.bottom.ptr().get()}); }
std::vector<torch::Tensor> decoder_path(UNetImpl& u) {
    return params_of({u.up3.ptr().get(), u.dec3.ptr().get(), u.up2.ptr().get(), u.dec2.ptr().get(), u.up1.ptr().get(), u.dec1.ptr().get()});
}

void encoder_mode(UNetImpl& u, bool training) {
    u.enc1->train(training);
    u.enc2->train(training);
    u.enc3->train(training);
    u.bottom->train(training);
}

// The UNet's forward up to dec1, then the head. A frozen encoder path runs in eval mode without
// gradients (its batch norms keep their pretrained statistics); the decoder trains.
torch::Tensor logits(Segmenter& s, const torch::Tensor& x, bool training) {
    auto& u = *s.model->net->unet;
    const bool frozen = s.cfg.freeze_encoder || !training;
    torch::Tensor e1, e2, e3, b;
    {
        torch::AutoGradMode grad_mode(!frozen && torch::GradMode::is_enabled());
        encoder_mode(u, !frozen);
        e1 = u.enc1->forward(x);
        e2 = u.enc2->forward(torch::max_pool2d(e1, 2));
        e3 = u.enc3->forward(torch::max_pool2d(e2, 2));
        b = u.bottom->forward(torch::max_pool2d(e3, 2));
    }
    auto d3 = u.dec3->forward(torch::cat({u.up3(b), e3}, 1));
    auto d2 = u.dec2->forward(torch::cat({u.up2(d3), e2}, 1));
    auto d1 = u.dec1->forward(torch::cat({u.up1(d2), e1}, 1));
    return s.head->forward(d1);
}

}  // namespace

std::shared_ptr<Segmenter> build_segmenter(std::shared_ptr<Model> model, const dst_segmenter_config& cfg) {
    validate(cfg);
    if (!model->net->unet)
        fail(DST_INVALID_ARGUMENT, "segmentation takes a UNet model (per-pixel decoder); this model's encoder is a ResNet, which has no full-resolution decoder: pretrain a UNet, or train a UNet from scratch");
    auto s = std::make_shared<Segmenter>();
    s->cfg = cfg;
    s->model = std::move(model);
    {
        std::lock_guard<std::mutex> lock(init_mutex());
        torch::manual_seed(static_cast<uint64_t>(cfg.seed) + 29);
        s->head = torch::nn::Conv2d(torch::nn::Conv2dOptions(s->model->cfg.unet_width, cfg.classes, 1));
    }
    s->head->to(s->model->device);
    s->class_weights = torch::ones({cfg.classes}, torch::TensorOptions().device(s->model->device));
    auto& u = *s->model->net->unet;
    auto trained = decoder_path(u);
    auto head = s->head->parameters();
    trained.insert(trained.end(), head.begin(), head.end());
    s->optimizer = head_optimizer(std::move(trained), encoder_path(u), cfg.freeze_encoder, cfg.head_learning_rate, cfg.encoder_learning_rate, cfg.weight_decay);
    return s;
}

std::shared_ptr<Segmenter> lookup_segmenter(int64_t handle) { return g_segmenters.lookup(handle); }
int64_t register_segmenter(std::shared_ptr<Segmenter> s) { return g_segmenters.add(std::move(s)); }
std::shared_ptr<Segmenter> unregister_segmenter(int64_t handle) { return g_segmenters.remove(handle); }

void set_segmenter_class_weights(Segmenter& s, const float* weights, int32_t classes) {
    set_head_class_weights(s.class_weights, weights, classes, s.cfg.classes, "segmenter");
}

float segmenter_step(Segmenter& s, const dst_batch& b, const int32_t* targets, int64_t targets_length) {
    auto& m = *s.model;
    const auto presence = validate_batch(m, &b);
    const int64_t B = b.batch, H = b.height, W = b.width, C = s.cfg.classes;
    if (targets == nullptr) fail(DST_INVALID_ARGUMENT, "the targets are null");
    if (targets_length != B * H * W) fail(DST_INVALID_ARGUMENT, msg("targets hold ", targets_length, " values, expected ", B * H * W, " (one class index per pixel)"));
    if (B < 2 && !s.cfg.freeze_encoder) fail(DST_INVALID_ARGUMENT, "training the encoder needs at least 2 samples per batch (batch normalisation)");
    auto t = torch::from_blob(const_cast<int32_t*>(targets), {B, H, W}, torch::kInt).to(torch::kLong);
    if (!torch::logical_and(t >= -1, t < C).all().item<bool>()) fail(DST_INVALID_ARGUMENT, msg("pixel targets must be class indices 0-", C - 1, " or -1 (no label)"));
    // Weighted mean over labelled pixels; a class of weight 0 counts as unlabelled.
    auto labelled = (t >= 0);
    if (!labelled.any().item<bool>()) fail(DST_INVALID_ARGUMENT, "the batch has no labelled pixel (every target is -1)");
    const auto& x = assemble(m, b, presence);
    s.head->train();
    m.net->train();
    for (auto& p : s.head->parameters()) p.mutable_grad().reset();
    for (auto& p : m.net->unet->parameters()) p.mutable_grad().reset();
    auto z = logits(s, x, true);
    auto loss = F::cross_entropy(z, t.to(m.device), F::CrossEntropyFuncOptions().weight(s.class_weights).ignore_index(-1));
    const float value = loss.item<float>();
    if (!std::isfinite(value)) fail(DST_INTERNAL, msg("the loss is not finite at step ", s.step + 1, ": lower the learning rate, or check that the labelled classes have non-zero weights"));
    loss.backward();
    adamw_step(*s.optimizer);
    encoder_mode(*m.net->unet, true);
    ++s.step;
    ++m.weights_version;
    return value;
}

torch::Tensor segmenter_predict(Segmenter& s, const dst_batch& b) {
    auto& m = *s.model;
    const auto presence = validate_batch(m, &b);
    const auto& x = assemble(m, b, presence);
    torch::NoGradGuard no_grad;
    m.net->eval();
    s.head->eval();
    torch::Tensor p;
    try {
        p = torch::softmax(logits(s, x, false), 1);
    } catch (...) {
        m.net->train();
        s.head->train();
        throw;
    }
    m.net->train();
    s.head->train();
    return p;
}

void save_segmenter(Segmenter& s, const std::string& encoder_path, const std::string& head_path) {
    save_model(*s.model, encoder_path, nullptr);
    c10::Dict<std::string, at::Tensor> state;
    state.insert("weight", s.head->weight.detach().to(torch::kCPU).contiguous());
    state.insert("bias", s.head->bias.detach().to(torch::kCPU).contiguous());
    write_checkpoint(head_path, kHeadFormat, s.step, {
        {"classes", static_cast<int64_t>(s.cfg.classes)},
        {"freeze_encoder", static_cast<int64_t>(s.cfg.freeze_encoder)},
        {"features", std::string("decoder")},  // logits = conv1x1(dec1(...)): the UNet's own head is not used
        {"class_weights", s.class_weights.detach().to(torch::kCPU).contiguous()},
    }, state);
}

void load_segmenter_head(Segmenter& s, const std::string& file) {
    const auto env = read_checkpoint(file, kHeadFormat, "is not a DeepSentinel segmentation head");
    if (read_int(env.root, "classes", file) != s.cfg.classes) fail(DST_CORRUPT_FILE, msg(file, " holds a head for other classes than the segmenter it is loaded into"));
    restore_tensor(env.state, "weight", s.head->weight, file);
    restore_tensor(env.state, "bias", s.head->bias, file);
    auto weights = required(env.root, "class_weights", file);
    if (weights.isTensor() && weights.toTensor().numel() == s.cfg.classes) {
        torch::NoGradGuard no_grad;
        s.class_weights.copy_(weights.toTensor());
    }
    s.step = env.step;
}

}  // namespace ds
