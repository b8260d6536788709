// The C ABI: pretraining steps and embeddings.
#include "../engine/losses.h"
#include "../engine/optimizer.h"

#include <c10/util/string_utils.h>

using namespace ds;

extern "C" {

DST_API int32_t dst_model_train_step(int64_t model, const dst_batch* batch, float* loss) {
    return guarded([&] {
        auto m = lookup(model);
        if (loss == nullptr) fail(DST_INVALID_ARGUMENT, "the loss output is null");
        std::lock_guard<std::mutex> lock(m->mutex);
        const auto presence = validate_batch(*m, batch);
        const auto& x = assemble(*m, *batch, presence);
        m->net->train();
        // Gradients set to none rather than zeroed: backward then writes them instead of adding
        // to a zero-filled buffer (one pass over the parameters less), and AdamW skips none.
        for (auto& p : m->net->parameters()) p.mutable_grad().reset();
        torch::Tensor value;
        switch (m->cfg.method) {
            case DST_SIMCLR: value = simclr_loss(*m, x, presence); break;
            case DST_TILE2VEC: value = tile2vec_loss(*m, x, presence); break;
            default: value = autoencoder_loss(*m, x, presence); break;
        }
        const float scalar = value.item<float>();
        if (!std::isfinite(scalar))
            fail(DST_INTERNAL, msg("the loss is not finite at step ", m->step + 1, ": lower the learning rate or check the input for extreme values"));
        value.backward();
        adamw_step(*m->optimizer);
        ++m->step;
        ++m->weights_version;
        *loss = scalar;
    });
}

DST_API int32_t dst_model_embed(int64_t model, const dst_batch* batch, float* output, int64_t output_length) {
    return guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        const auto presence = validate_batch(*m, batch);
        if (output == nullptr) fail(DST_INVALID_ARGUMENT, "the embedding output buffer is null");
        if (output_length != static_cast<int64_t>(batch->batch) * m->cfg.embedding_dim)
            fail(DST_INVALID_ARGUMENT, msg("the embedding output buffer holds ", output_length, " floats, ", static_cast<int64_t>(batch->batch) * m->cfg.embedding_dim, " are needed"));
        in_eval_mode(*m, [&] {
            const auto& x = assemble(*m, *batch, presence);
            copy_out(m->embed(x), output, output_length, "embedding");
        });
    });
}

DST_API int32_t dst_model_embed_pixels(int64_t model, const dst_batch* batch, float* output, int64_t output_length) {
    return guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        if (m->cfg.encoder != DST_UNET) fail(DST_INVALID_ARGUMENT, "per-pixel embeddings need a UNet encoder; this model is a ResNet");
        const auto presence = validate_batch(*m, batch);
        const int64_t needed = static_cast<int64_t>(batch->batch) * m->cfg.embedding_dim * batch->height * batch->width;
        if (output == nullptr || output_length != needed)
            fail(DST_INVALID_ARGUMENT, msg("the per-pixel output buffer holds ", output_length, " floats, ", needed, " are needed"));
        in_eval_mode(*m, [&] {
            const auto& x = assemble(*m, *batch, presence);
            copy_out(m->net->encode(x).spatial.contiguous(), output, output_length, "per-pixel embedding");
        });
    });
}

DST_API int32_t dst_self_test_augment(double* max_abs_difference, double* noise_mean, double* noise_std) {
    return guarded([&] {
        if (max_abs_difference == nullptr || noise_mean == nullptr || noise_std == nullptr) fail(DST_INVALID_ARGUMENT, "an output is null");
        Model m;
        m.cfg.struct_size = sizeof(dst_model_config);
        m.cfg.s2_channels = 3;
        m.cfg.s1_channels = 2;
        m.cfg.modality_dropout = 0.3;
        m.cfg.band_noise = 0.1;
        m.rng.seed(7);
        m.generator = at::make_generator<at::CPUGeneratorImpl>(7);
        double worst = 0;
        // Square and oblong patches, NCHW and NHWC, some modalities absent; the fused views go to
        // the second half of the output, and the first half must stay untouched.
        for (const auto& shape : std::vector<std::pair<int64_t, int64_t>>{{32, 32}, {32, 64}, {64, 32}}) {
            for (const bool last : {false, true}) {
                const int64_t B = 24, C = 5, H = shape.first, W = shape.second;
                const auto format = last ? c10::MemoryFormat::ChannelsLast : c10::MemoryFormat::Contiguous;
                auto x = torch::randn({B, C, H, W}, m.generator).contiguous(format);
                Presence p;
                p.s2.assign(B, 1);
                p.s1.assign(B, 1);
                p.s2[3] = 0;
                p.s1[5] = 0;
                auto plan = plan_views(m, p, B, C, H, W, true);
                plan.noise_std = 0;
                auto fused = torch::full({2 * B, C, H, W}, 99.0f).contiguous(format);
                auto reference = torch::full({2 * B, C, H, W}, 99.0f).contiguous(format);
                augment_fused(m, x, p, plan, fused, B);
                augment_reference(m, x, p, plan, reference, B, false);
                worst = std::max(worst, (fused.narrow(0, B, B) - reference.narrow(0, B, B)).abs().max().item<double>());
                if (fused.narrow(0, 0, B).ne(99.0f).any().item<bool>()) fail(DST_INTERNAL, "the fused augmentation wrote outside its views");
            }
        }
        // The noise alone: a zero input with unit gains.
        const int64_t B = 4, C = 5, H = 64, W = 64;
        Presence p;
        p.s2.assign(B, 1);
        p.s1.assign(B, 1);
        m.cfg.modality_dropout = 0;
        auto plan = plan_views(m, p, B, C, H, W, false);
        std::fill(plan.gains.begin(), plan.gains.end(), 1.0f);
        auto noise = torch::empty({B, C, H, W});
        augment_fused(m, torch::zeros({B, C, H, W}), p, plan, noise, 0);
        *max_abs_difference = worst;
        *noise_mean = noise.mean().item<double>();
        *noise_std = noise.std().item<double>();
    });
}

DST_API int32_t dst_self_test_adamw(double* max_parameter_difference, double* max_moment_difference, int64_t* steps_checked) {
    return guarded([&] {
        if (max_parameter_difference == nullptr || max_moment_difference == nullptr || steps_checked == nullptr)
            fail(DST_INVALID_ARGUMENT, "an output is null");
        // Two parameter groups (weight decay on and off, different rates), sizes below and above
        // one parallel chunk, and a parameter without a gradient on odd steps (skipped, as
        // libtorch skips it). Both optimizers see the same gradients.
        auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
        const std::vector<std::vector<int64_t>> shapes{{7}, {64, 13, 3, 3}, {512, 256, 3, 3}, {10, 128}};
        std::vector<torch::Tensor> fused_params, reference_params;
        for (const auto& shape : shapes) {
            auto t = torch::randn(shape, gen);
            fused_params.push_back(t.clone().set_requires_grad(true));
            reference_params.push_back(t.clone().set_requires_grad(true));
        }
        auto make = [](std::vector<torch::Tensor>& params) {
            std::vector<torch::optim::OptimizerParamGroup> groups;
            groups.emplace_back(std::vector<torch::Tensor>{params[0], params[1]},
                                std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-3).weight_decay(1e-2)));
            groups.emplace_back(std::vector<torch::Tensor>{params[2], params[3]},
                                std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(3e-4).weight_decay(0).betas({0.8, 0.99})));
            return std::make_unique<torch::optim::AdamW>(std::move(groups));
        };
        auto fused = make(fused_params);
        auto reference = make(reference_params);
        const int64_t steps = 6;
        double worst_p = 0, worst_m = 0;
        for (int64_t step = 0; step < steps; ++step) {
            for (size_t k = 0; k < shapes.size(); ++k) {
                if (k == 3 && step % 2 == 1) {
                    fused_params[k].mutable_grad().reset();
                    reference_params[k].mutable_grad().reset();
                    continue;
                }
                auto g = torch::randn(shapes[k], gen) * (1.0 + static_cast<double>(step));
                fused_params[k].mutable_grad() = g.clone();
                reference_params[k].mutable_grad() = g.clone();
            }
            adamw_step(*fused);
            adamw_step_reference(*reference);
        }
        for (size_t k = 0; k < shapes.size(); ++k) {
            const auto key = c10::guts::to_string(fused_params[k].unsafeGetTensorImpl());
            const auto rkey = c10::guts::to_string(reference_params[k].unsafeGetTensorImpl());
            auto f = fused->state().find(key);
            auto r = reference->state().find(rkey);
            if (f == fused->state().end() || r == reference->state().end()) fail(DST_INTERNAL, msg("parameter ", k, " has no optimizer state"));
            auto& fs = static_cast<torch::optim::AdamWParamState&>(*f->second);
            auto& rs = static_cast<torch::optim::AdamWParamState&>(*r->second);
            if (fs.step() != rs.step()) fail(DST_INTERNAL, msg("parameter ", k, ": fused step count ", fs.step(), ", libtorch's ", rs.step()));
            worst_p = std::max(worst_p, (fused_params[k] - reference_params[k]).abs().max().item<double>());
            worst_m = std::max(worst_m, (fs.exp_avg() - rs.exp_avg()).abs().max().item<double>());
            worst_m = std::max(worst_m, (fs.exp_avg_sq() - rs.exp_avg_sq()).abs().max().item<double>());
        }
        *max_parameter_difference = worst_p;
        *max_moment_difference = worst_m;
        *steps_checked = steps;
    });
}

}  // extern "C"
