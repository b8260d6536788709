#include "classifier.h"

#include "batch.h"
#include "checkpoints.h"
#include "optimizer.h"
#include "heads.h"

namespace ds {

namespace {
// Classifier ids count down from the top of the range, so they never equal a model id: a model
// handle passed where a classifier is expected (or the reverse) is an error, not another object.
HeadRegistry<Classifier> g_classifiers(std::numeric_limits<int64_t>::max(), "classifier");
const char* kHeadFormat = "deepsentinel-classifier-head";

void validate(const dst_classifier_config& c) {
    if (c.struct_size != static_cast<int32_t>(sizeof(dst_classifier_config)))
        fail(DST_INVALID_ARGUMENT, msg("classifier config has struct_size ", c.struct_size, ", expected ", sizeof(dst_classifier_config), " (mismatched library version)"));
    if (c.classes < 2 || c.classes > 1000) fail(DST_INVALID_ARGUMENT, msg("a classifier needs 2-1000 classes, got ", c.classes));
    if (c.multi_label != 0 && c.multi_label != 1) fail(DST_INVALID_ARGUMENT, "multi_label must be 0 or 1");
    if (c.freeze_encoder != 0 && c.freeze_encoder != 1) fail(DST_INVALID_ARGUMENT, "freeze_encoder must be 0 or 1");
    if (!finite_in(c.head_learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("head learning rate must be in (0, 10], got ", c.head_learning_rate));
    if (!finite_in(c.encoder_learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("encoder learning rate must be in (0, 10], got ", c.encoder_learning_rate));
    if (!finite_in(c.weight_decay, 0.0, 1.0)) fail(DST_INVALID_ARGUMENT, msg("weight decay must be 0-1, got ", c.weight_decay));
}

// The encoder's parameters only: a pretraining head (SimCLR projector, autoencoder decoder) is not trained here.
std::vector<torch::Tensor> encoder_parameters(Model& m) { return m.net->resnet->parameters(); }

// The head sees the embedding standardised per sample (layer norm without parameters), as linear
// probes do: pretrained embeddings come at any scale, and a head on raw ones saturates.
torch::Tensor head_of(Classifier& c, const torch::Tensor& embedding) {
    return c.head->forward(F::layer_norm(embedding, F::LayerNormFuncOptions({embedding.size(1)}).eps(1e-5)));
}

torch::Tensor logits(Classifier& c, const torch::Tensor& x, bool training) {
    auto& m = *c.model;
    if (c.cfg.freeze_encoder || !training) {
        torch::Tensor embedding;
        {
            torch::NoGradGuard no_grad;
            m.net->eval();
            embedding = m.net->encode(x).embedding;
        }
        if (training) m.net->train();
        return head_of(c, embedding);
    }
    m.net->train();
    return head_of(c, m.net->encode(x).embedding);
}

}  // namespace

std::shared_ptr<Classifier> build_classifier(std::shared_ptr<Model> model, const dst_classifier_config& cfg) {
    validate(cfg);
    if (!model->net->resnet)
        fail(DST_INVALID_ARGUMENT, "patch classification takes a ResNet encoder; this model's encoder is a UNet (per-pixel): use it for segmentation, or pretrain a ResNet");
    auto c = std::make_shared<Classifier>();
    c->cfg = cfg;
    c->model = std::move(model);
    {
        std::lock_guard<std::mutex> lock(init_mutex());
        torch::manual_seed(static_cast<uint64_t>(cfg.seed) + 17);
        c->head = torch::nn::Linear(c->model->cfg.embedding_dim, cfg.classes);
    }
    c->head->to(c->model->device);
    c->class_weights = torch::ones({cfg.classes}, torch::TensorOptions().device(c->model->device));
    c->optimizer = head_optimizer(c->head->parameters(), encoder_parameters(*c->model), cfg.freeze_encoder,
                                  cfg.head_learning_rate, cfg.encoder_learning_rate, cfg.weight_decay);
    return c;
}

std::shared_ptr<Classifier> lookup_classifier(int64_t handle) { return g_classifiers.lookup(handle); }
int64_t register_classifier(std::shared_ptr<Classifier> c) { return g_classifiers.add(std::move(c)); }
std::shared_ptr<Classifier> unregister_classifier(int64_t handle) { return g_classifiers.remove(handle); }

void set_classifier_class_weights(Classifier& c, const float* weights, int32_t classes) {
    set_head_class_weights(c.class_weights, weights, classes, c.cfg.classes, "classifier");
}

float classifier_step(Classifier& c, const dst_batch& b, const float* targets, int64_t targets_length) {
    auto& m = *c.model;
    const auto presence = validate_batch(m, &b);
    const int64_t B = b.batch, C = c.cfg.classes;
    if (targets == nullptr) fail(DST_INVALID_ARGUMENT, "the targets are null");
    const int64_t expected = c.cfg.multi_label ? B * C : B;
    if (targets_length != expected)
        fail(DST_INVALID_ARGUMENT, msg("targets hold ", targets_length, " values, expected ", expected, c.cfg.multi_label ? " (batch x classes)" : " (one class index per sample)"));
    if (!c.cfg.freeze_encoder && B < 2) fail(DST_INVALID_ARGUMENT, "fine-tuning the encoder needs at least 2 samples per batch (batch normalisation)");
    auto t = torch::from_blob(const_cast<float*>(targets), {expected}).clone();
    if (c.cfg.multi_label) {
        if (!torch::logical_or(t == 0, t == 1).all().item<bool>()) fail(DST_INVALID_ARGUMENT, "multi-label targets must be 0 or 1");
    } else {
        auto valid = torch::logical_and(t >= 0, t < C).logical_and(t == t.round());
        if (!valid.all().item<bool>()) fail(DST_INVALID_ARGUMENT, msg("single-label targets must be class indices 0-", C - 1));
    }
    const auto& x = assemble(m, b, presence);
    c.head->train();
    for (auto& p : c.head->parameters()) p.mutable_grad().reset();
    for (auto& p : encoder_parameters(m)) p.mutable_grad().reset();
    auto z = logits(c, c.augment ? augment_flips_rotations(c, x) : x, true);
    torch::Tensor loss;
    if (c.cfg.multi_label) {
        auto target = t.view({B, C}).to(m.device);
        // Per-class weights scale each class's binary log loss.
        loss = F::binary_cross_entropy_with_logits(z, target, F::BinaryCrossEntropyWithLogitsFuncOptions().weight(c.class_weights.view({1, C}).expand({B, C})));
    } else {
        loss = F::cross_entropy(z, t.to(torch::kLong).to(m.device), F::CrossEntropyFuncOptions().weight(c.class_weights));
    }
    const float value = loss.item<float>();
    if (!std::isfinite(value)) fail(DST_INTERNAL, msg("the loss is not finite at step ", c.step + 1, ": lower the learning rate or check the input"));
    loss.backward();
    adamw_step(*c.optimizer);
    ++c.step;
    ++m.weights_version;  // the encoder's folded inference plan is stale once it trains
    return value;
}

torch::Tensor classifier_predict(Classifier& c, const dst_batch& b) {
    auto& m = *c.model;
    const auto presence = validate_batch(m, &b);
    const auto& x = assemble(m, b, presence);
    torch::NoGradGuard no_grad;
    c.head->eval();
    m.net->eval();
    auto z = head_of(c, m.net->encode(x).embedding);
    m.net->train();
    c.head->train();
    return c.cfg.multi_label ? torch::sigmoid(z) : torch::softmax(z, 1);
}

void save_classifier(Classifier& c, const std::string& encoder_path, const std::string& head_path) {
    save_model(*c.model, encoder_path, nullptr);
    c10::Dict<std::string, at::Tensor> state;
    state.insert("weight", c.head->weight.detach().to(torch::kCPU).contiguous());
    state.insert("bias", c.head->bias.detach().to(torch::kCPU).contiguous());
    write_checkpoint(head_path, kHeadFormat, c.step, {
        {"classes", static_cast<int64_t>(c.cfg.classes)},
        {"multi_label", static_cast<int64_t>(c.cfg.multi_label)},
        {"freeze_encoder", static_cast<int64_t>(c.cfg.freeze_encoder)},
        {"embedding_norm", std::string("layer_norm")},  // logits = weight @ layer_norm(embedding) + bias
        {"class_weights", c.class_weights.detach().to(torch::kCPU).contiguous()},
    }, state);
}

void load_classifier_head(Classifier& c, const std::string& file) {
    const auto env = read_checkpoint(file, kHeadFormat, "is not a DeepSentinel classifier head");
    if (read_int(env.root, "classes", file) != c.cfg.classes || read_int(env.root, "multi_label", file) != c.cfg.multi_label)
        fail(DST_CORRUPT_FILE, msg(file, " holds a head for other classes or another task than the classifier it is loaded into"));
    restore_tensor(env.state, "weight", c.head->weight, file);
    restore_tensor(env.state, "bias", c.head->bias, file);
    auto weights = required(env.root, "class_weights", file);
    if (weights.isTensor() && weights.toTensor().numel() == c.cfg.classes) {
        torch::NoGradGuard no_grad;
        c.class_weights.copy_(weights.toTensor());
    }
    c.step = env.step;
}

}  // namespace ds
