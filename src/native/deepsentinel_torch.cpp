// DeepSentinel's native training engine over libtorch. See deepsentinel_torch.h for the ABI rules.
// One translation unit on purpose: a libtorch TU takes a minute or two to compile.
#include "deepsentinel_torch.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace F = torch::nn::functional;

namespace {

// ---------------------------------------------------------------------------------------------
// Errors: a per-thread slot, filled at the boundary; nothing throws across it.

thread_local std::string t_error;
thread_local bool t_has_error = false;
thread_local int32_t t_status = DST_OK;

struct DstError : std::runtime_error {
    dst_status status;
    DstError(dst_status s, const std::string& message) : std::runtime_error(message), status(s) {}
};

[[noreturn]] void fail(dst_status status, const std::string& message) { throw DstError(status, message); }

template <class... Parts>
std::string msg(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

// libtorch's c10::Error carries a backtrace in what(): users need only the message.
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

template <class Body>
int32_t guarded(Body&& body) {
    t_has_error = false;
    t_status = DST_OK;
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

// ---------------------------------------------------------------------------------------------
// A caching CPU allocator. A ResNet step frees and re-allocates the same few dozen large
// activation and gradient buffers (tens of MB each) every step. libtorch's default allocator
// hands them to glibc, which maps every block over 32 MB afresh and unmaps it on free, so each
// step page-faults its whole working set back in (about 10% of the CPU time, most of it in the
// kernel). Here blocks of 1 MiB and more are kept when freed and handed back for the next request
// of the same rounded size (64 KiB steps below 4 MiB, 2 MiB steps above). Smaller requests go to
// libtorch's own allocator unchanged. (Advising the large blocks for transparent huge pages was
// tried and measured slower here: 13.0-13.8 against 13.2-15.1 images/s.)
// The cache is bounded (dst_set_cpu_cache_limit, DEEPSENTINEL_CPU_CACHE_MB) and emptied when the
// last model is freed.

constexpr size_t kCacheMinBlock = size_t(1) << 20;
constexpr size_t kLargeBlock = size_t(4) << 20;

struct BlockCache {
    std::mutex mutex;
    std::unordered_map<void*, size_t> live;               // large blocks in use -> rounded size
    std::unordered_map<size_t, std::vector<void*>> free;  // rounded size -> cached blocks
    size_t cached_bytes = 0, live_bytes = 0, limit = size_t(4) << 30;
    uint64_t hits = 0, misses = 0;
};

BlockCache& block_cache() {
    static BlockCache* cache = [] {
        auto* c = new BlockCache();  // never destroyed: tensors may be freed at exit
        // DEEPSENTINEL_CPU_CACHE_MB overrides the limit (0 turns the cache off).
        if (const char* mb = std::getenv("DEEPSENTINEL_CPU_CACHE_MB")) {
            char* end = nullptr;
            const long long value = std::strtoll(mb, &end, 10);
            if (end != mb && *end == '\0' && value >= 0) c->limit = static_cast<size_t>(value) << 20;
        }
        return c;
    }();
    return *cache;
}

size_t round_block(size_t n) {
    const size_t granule = n >= kLargeBlock ? size_t(2) << 20 : size_t(64) << 10;
    return (n + granule - 1) / granule * granule;
}

void* allocate_block(size_t size) {
    void* p = nullptr;
    if (posix_memalign(&p, 64, size) != 0 || p == nullptr) throw std::bad_alloc();
    return p;
}

void release_block(void* p) {
    if (p == nullptr) return;
    auto& c = block_cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        auto it = c.live.find(p);
        if (it == c.live.end()) {
            // A small block, or one made by libtorch's allocator before this one was installed.
            c10::free_cpu(p);
            return;
        }
        const size_t size = it->second;
        c.live.erase(it);
        c.live_bytes -= size;
        if (c.cached_bytes + size <= c.limit) {
            c.free[size].push_back(p);
            c.cached_bytes += size;
            return;
        }
    }
    std::free(p);  // over the limit: back to the system, outside the lock
}

struct CachingCpuAllocator final : c10::Allocator {
    c10::DataPtr allocate(size_t n) const override {
        if (n < kCacheMinBlock) {
            // Small blocks never touch the cache: freed straight to libtorch's allocator. (Through
            // raw_deleter they reach release_block, which hands unknown blocks to free_cpu too.)
            void* p = c10::alloc_cpu(n);
            return {p, p, &c10::free_cpu, c10::Device(c10::DeviceType::CPU)};
        }
        const size_t size = round_block(n);
        auto& c = block_cache();
        {
            std::lock_guard<std::mutex> lock(c.mutex);
            auto it = c.free.find(size);
            if (it != c.free.end() && !it->second.empty()) {
                void* p = it->second.back();
                it->second.pop_back();
                c.cached_bytes -= size;
                ++c.hits;
                c.live.emplace(p, size);
                c.live_bytes += size;
                return {p, p, &release_block, c10::Device(c10::DeviceType::CPU)};
            }
            ++c.misses;
        }
        void* p = allocate_block(size);  // outside the lock: a new block may take a while
        {
            std::lock_guard<std::mutex> lock(c.mutex);
            c.live.emplace(p, size);
            c.live_bytes += size;
        }
        return {p, p, &release_block, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override { return &release_block; }
};

void install_cpu_allocator() {
    static std::once_flag once;
    std::call_once(once, [] {
        static CachingCpuAllocator allocator;
        c10::SetCPUAllocator(&allocator, /*priority=*/1);
    });
}

void empty_block_cache() {
    std::vector<void*> doomed;
    auto& c = block_cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        for (auto& bucket : c.free) doomed.insert(doomed.end(), bucket.second.begin(), bucket.second.end());
        c.free.clear();
        c.cached_bytes = 0;
    }
    for (void* p : doomed) std::free(p);
}


// ---------------------------------------------------------------------------------------------
// Networks. Parameter names follow torchvision so that a state dict reads familiar in Python.

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

struct BasicBlockImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
    torch::nn::Sequential downsample{nullptr};

    BasicBlockImpl(int64_t in, int64_t planes, int64_t stride) {
        conv1 = register_module("conv1", conv(in, planes, 3, stride, 1));
        bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
        conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
        bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
        if (stride != 1 || in != planes) {
            downsample = register_module("downsample", torch::nn::Sequential(conv(in, planes, 1, stride), torch::nn::BatchNorm2d(planes)));
        }
    }

    torch::Tensor forward(const torch::Tensor& x) {
        auto out = bn1(conv1(x)).relu_();
        out = bn2(conv2(out));
        out += downsample ? downsample->forward(x) : x;
        return torch::relu_(out);
    }
};
TORCH_MODULE(BasicBlock);

struct BottleneckImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
    torch::nn::Sequential downsample{nullptr};

    BottleneckImpl(int64_t in, int64_t planes, int64_t stride) {
        conv1 = register_module("conv1", conv(in, planes, 1));
        bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
        conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
        bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
        conv3 = register_module("conv3", conv(planes, planes * 4, 1));
        bn3 = register_module("bn3", torch::nn::BatchNorm2d(planes * 4));
        if (stride != 1 || in != planes * 4) {
            downsample = register_module("downsample", torch::nn::Sequential(conv(in, planes * 4, 1, stride), torch::nn::BatchNorm2d(planes * 4)));
        }
    }

    torch::Tensor forward(const torch::Tensor& x) {
        auto out = bn1(conv1(x)).relu_();
        out = bn2(conv2(out)).relu_();
        out = bn3(conv3(out));
        out += downsample ? downsample->forward(x) : x;
        return torch::relu_(out);
    }
};
TORCH_MODULE(Bottleneck);

struct Encoded {
    torch::Tensor embedding;  // [B, D]
    torch::Tensor spatial;    // ResNet: last feature map [B, F, H/32, W/32]; UNet: per-pixel [B, D, H, W]
};

struct ResNetImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr};
    torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
    torch::nn::Linear fc{nullptr};
    int64_t feature_dim = 0;

    ResNetImpl(bool bottleneck, const std::vector<int>& blocks, int64_t in_channels, int64_t embedding_dim) {
        conv1 = register_module("conv1", conv(in_channels, 64, 7, 2, 3));
        bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
        int64_t in = 64;
        auto make_layer = [&](int64_t planes, int count, int64_t stride) {
            torch::nn::Sequential layer;
            for (int i = 0; i < count; ++i) {
                if (bottleneck) {
                    layer->push_back(Bottleneck(in, planes, i == 0 ? stride : 1));
                    in = planes * 4;
                } else {
                    layer->push_back(BasicBlock(in, planes, i == 0 ? stride : 1));
                    in = planes;
                }
            }
            return layer;
        };
        layer1 = register_module("layer1", make_layer(64, blocks[0], 1));
        layer2 = register_module("layer2", make_layer(128, blocks[1], 2));
        layer3 = register_module("layer3", make_layer(256, blocks[2], 2));
        layer4 = register_module("layer4", make_layer(512, blocks[3], 2));
        feature_dim = in;
        fc = register_module("fc", torch::nn::Linear(in, embedding_dim));
    }

    Encoded forward(const torch::Tensor& x) {
        auto y = bn1(conv1(x)).relu_();
        y = torch::max_pool2d(y, 3, 2, 1);
        y = layer4->forward(layer3->forward(layer2->forward(layer1->forward(y))));
        auto pooled = torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1);
        return {fc(pooled), y};
    }
};
TORCH_MODULE(ResNet);

torch::nn::Sequential double_conv(int64_t in, int64_t out) {
    return torch::nn::Sequential(conv(in, out, 3, 1, 1), torch::nn::BatchNorm2d(out), torch::nn::ReLU(torch::nn::ReLUOptions(true)),
                                 conv(out, out, 3, 1, 1), torch::nn::BatchNorm2d(out), torch::nn::ReLU(torch::nn::ReLUOptions(true)));
}

torch::nn::ConvTranspose2d up(int64_t in, int64_t out) {
    return torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in, out, 2).stride(2));
}

// A four-level UNet whose 1x1 head gives a per-pixel embedding; the sample embedding is its mean.
struct UNetImpl : torch::nn::Module {
    torch::nn::Sequential enc1{nullptr}, enc2{nullptr}, enc3{nullptr}, bottom{nullptr}, dec3{nullptr}, dec2{nullptr}, dec1{nullptr};
    torch::nn::ConvTranspose2d up3{nullptr}, up2{nullptr}, up1{nullptr};
    torch::nn::Conv2d head{nullptr};

    UNetImpl(int64_t in_channels, int64_t width, int64_t embedding_dim) {
        enc1 = register_module("enc1", double_conv(in_channels, width));
        enc2 = register_module("enc2", double_conv(width, width * 2));
        enc3 = register_module("enc3", double_conv(width * 2, width * 4));
        bottom = register_module("bottom", double_conv(width * 4, width * 8));
        up3 = register_module("up3", up(width * 8, width * 4));
        dec3 = register_module("dec3", double_conv(width * 8, width * 4));
        up2 = register_module("up2", up(width * 4, width * 2));
        dec2 = register_module("dec2", double_conv(width * 4, width * 2));
        up1 = register_module("up1", up(width * 2, width));
        dec1 = register_module("dec1", double_conv(width * 2, width));
        head = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, embedding_dim, 1)));
    }

    Encoded forward(const torch::Tensor& x) {
        auto e1 = enc1->forward(x);
        auto e2 = enc2->forward(torch::max_pool2d(e1, 2));
        auto e3 = enc3->forward(torch::max_pool2d(e2, 2));
        auto b = bottom->forward(torch::max_pool2d(e3, 2));
        auto d3 = dec3->forward(torch::cat({up3(b), e3}, 1));
        auto d2 = dec2->forward(torch::cat({up2(d3), e2}, 1));
        auto d1 = dec1->forward(torch::cat({up1(d2), e1}, 1));
        auto pixels = head(d1);
        return {pixels.mean({2, 3}), pixels};
    }
};
TORCH_MODULE(UNet);

// Encoder + method heads + the normalisation statistics, all in one module so that one state dict
// holds everything a checkpoint needs.
struct NetImpl : torch::nn::Module {
    dst_model_config cfg;
    ResNet resnet{nullptr};
    UNet unet{nullptr};
    torch::nn::Sequential projector{nullptr};
    torch::nn::Sequential decoder{nullptr};
    torch::Tensor input_mean, input_std;

    explicit NetImpl(const dst_model_config& c) : cfg(c) {
        const int64_t channels = c.s2_channels + c.s1_channels;
        if (c.encoder == DST_UNET) {
            unet = register_module("encoder", UNet(channels, c.unet_width, c.embedding_dim));
        } else if (c.encoder == DST_RESNET50) {
            resnet = register_module("encoder", ResNet(true, std::vector<int>{3, 4, 6, 3}, channels, c.embedding_dim));
        } else {
            resnet = register_module("encoder", ResNet(false, std::vector<int>{2, 2, 2, 2}, channels, c.embedding_dim));
        }
        if (c.method == DST_SIMCLR) {
            projector = register_module("projector", torch::nn::Sequential(torch::nn::Linear(c.embedding_dim, 512), torch::nn::ReLU(true),
                                                                          torch::nn::Linear(512, c.projection_dim)));
        } else if (c.method == DST_AUTOENCODER) {
            if (unet) {
                decoder = register_module("decoder", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(c.embedding_dim, channels, 1))));
            } else {
                // Five x2 upsamplings take the stride-32 feature map back to the input grid.
                torch::nn::Sequential d(conv(resnet->feature_dim, 256, 1), torch::nn::BatchNorm2d(256), torch::nn::ReLU(true));
                int64_t width = 256;
                for (int i = 0; i < 5; ++i) {
                    const int64_t next = std::max<int64_t>(32, width / 2);
                    d->push_back(torch::nn::Upsample(torch::nn::UpsampleOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest)));
                    d->push_back(conv(width, next, 3, 1, 1));
                    d->push_back(torch::nn::BatchNorm2d(next));
                    d->push_back(torch::nn::ReLU(true));
                    width = next;
                }
                d->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(width, channels, 3).padding(1)));
                decoder = register_module("decoder", d);
            }
        }
        input_mean = register_buffer("input_mean", torch::zeros({channels}));
        input_std = register_buffer("input_std", torch::ones({channels}));

        for (auto& m : modules(false)) {
            if (auto* c2 = m->as<torch::nn::Conv2dImpl>()) {
                torch::nn::init::kaiming_normal_(c2->weight, 0.0, torch::kFanOut, torch::kReLU);
            }
        }
    }

    Encoded encode(const torch::Tensor& x) { return unet ? unet->forward(x) : resnet->forward(x); }
};
TORCH_MODULE(Net);

// ---------------------------------------------------------------------------------------------
// Inference plan for ResNet encoders on the CPU. In eval mode a batch norm is a fixed affine map,
// so it folds into the convolution before it (w' = w * g / sqrt(v + eps), b' = b - m * g / sqrt(v + eps)),
// and the whole network then runs on oneDNN-layout tensors with weights reordered once into
// oneDNN's blocked format: no batch-norm passes and no layout reorders between layers. The plan
// is rebuilt whenever the weights have changed since it was made. The sample embedding matches
// the eval-mode module to float rounding (a test checks it against Python's torch).

struct FoldedConv {
    torch::Tensor weight, bias;  // oneDNN-packed weight, oneDNN bias
    std::vector<int64_t> stride, padding;

    torch::Tensor operator()(const torch::Tensor& x) const {
        return at::mkldnn_convolution(x, weight, bias, padding, stride, {1, 1}, 1);
    }
};

struct FoldedBlock {
    std::vector<FoldedConv> convs;  // 2 (basic) or 3 (bottleneck), the last without ReLU
    bool has_downsample = false;
    FoldedConv downsample;
};

struct InferencePlan {
    int64_t weights_version = -1;
    FoldedConv stem;
    std::vector<FoldedBlock> blocks;
    torch::Tensor fc_weight, fc_bias;
};

std::vector<int64_t> pair_of(const torch::ExpandingArray<2>& a) { return {(*a)[0], (*a)[1]}; }

FoldedConv fold(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNormImplBase<2, torch::nn::BatchNorm2dImpl>& bn) {
    const auto scale = bn.weight / torch::sqrt(bn.running_var + bn.options.eps());
    auto weight = (conv.weight * scale.view({-1, 1, 1, 1})).contiguous();
    auto bias = (bn.bias - bn.running_mean * scale).contiguous();
    if (conv.bias.defined()) bias = bias + conv.bias * scale;
    FoldedConv f;
    f.stride = pair_of(conv.options.stride());
    const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&conv.options.padding());
    if (padding == nullptr) fail(DST_INTERNAL, "a convolution with symbolic padding cannot be folded");
    f.padding = pair_of(*padding);
    f.weight = at::mkldnn_reorder_conv2d_weight(weight.to_mkldnn(), f.padding, f.stride, {1, 1}, 1);
    f.bias = bias.to_mkldnn();
    return f;
}

template <class Block>
FoldedBlock fold_block(Block& block) {
    FoldedBlock f;
    f.convs.push_back(fold(*block.conv1, *block.bn1));
    f.convs.push_back(fold(*block.conv2, *block.bn2));
    if constexpr (std::is_same_v<Block, BottleneckImpl>) f.convs.push_back(fold(*block.conv3, *block.bn3));
    if (block.downsample) {
        f.has_downsample = true;
        f.downsample = fold(*block.downsample[0]->template as<torch::nn::Conv2dImpl>(), *block.downsample[1]->template as<torch::nn::BatchNorm2dImpl>());
    }
    return f;
}

InferencePlan make_plan(ResNetImpl& net, int64_t version) {
    torch::NoGradGuard no_grad;
    InferencePlan plan;
    plan.weights_version = version;
    plan.stem = fold(*net.conv1, *net.bn1);
    for (auto* layer : {&net.layer1, &net.layer2, &net.layer3, &net.layer4}) {
        for (auto& child : (*layer)->children()) {
            if (auto* basic = child->as<BasicBlockImpl>()) plan.blocks.push_back(fold_block(*basic));
            else if (auto* bottleneck = child->as<BottleneckImpl>()) plan.blocks.push_back(fold_block(*bottleneck));
            else fail(DST_INTERNAL, "unexpected ResNet layer");
        }
    }
    plan.fc_weight = net.fc->weight.detach().clone();
    plan.fc_bias = net.fc->bias.detach().clone();
    return plan;
}

torch::Tensor run_plan(const InferencePlan& plan, const torch::Tensor& input) {
    torch::NoGradGuard no_grad;
    auto y = plan.stem(input.contiguous().to_mkldnn());
    y.relu_();
    y = at::max_pool2d(y, {3, 3}, {2, 2}, {1, 1});
    for (const auto& block : plan.blocks) {
        auto out = y;
        for (size_t k = 0; k < block.convs.size(); ++k) {
            out = block.convs[k](out);
            if (k + 1 < block.convs.size()) out.relu_();
        }
        y = out + (block.has_downsample ? block.downsample(y) : y);
        y.relu_();
    }
    auto pooled = y.to_dense().mean({2, 3});
    return torch::addmm(plan.fc_bias, pooled, plan.fc_weight.t());
}

bool folded_inference_enabled() {
    static const bool enabled = [] {
        const char* value = std::getenv("DEEPSENTINEL_FOLDED_INFERENCE");
        return at::hasMKLDNN() && !(value != nullptr && std::string(value) == "0");
    }();
    return enabled;
}

// ---------------------------------------------------------------------------------------------
// Model state behind a handle.

struct Model {
    std::mutex mutex;  // one call at a time per model
    dst_model_config cfg{};
    Net net{nullptr};
    std::unique_ptr<torch::optim::AdamW> optimizer;
    torch::Device device{torch::kCPU};
    int64_t step = 0;
    std::mt19937_64 rng;
    at::Generator generator;
    // Reused across steps so that steady-state training allocates no new input buffers.
    torch::Tensor staging, input, views, noise;
    int64_t weights_version = 0;  // advanced by every change of the weights
    std::unique_ptr<InferencePlan> plan;

    // The sample embedding in eval mode: the folded oneDNN plan for ResNet encoders on the CPU.
    torch::Tensor embed(const torch::Tensor& x) {
        if (net->resnet && device.is_cpu() && folded_inference_enabled()) {
            if (!plan || plan->weights_version != weights_version) plan = std::make_unique<InferencePlan>(make_plan(*net->resnet, weights_version));
            return run_plan(*plan, x);
        }
        return net->encode(x).embedding;
    }

    int64_t channels() const { return cfg.s2_channels + cfg.s1_channels; }
    c10::MemoryFormat format() const { return cfg.channels_last ? c10::MemoryFormat::ChannelsLast : c10::MemoryFormat::Contiguous; }
    c10::optional<at::Generator> gen() const { return device.is_cpu() ? c10::optional<at::Generator>(generator) : c10::nullopt; }
    double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }
    int64_t below(int64_t n) { return static_cast<int64_t>(std::uniform_int_distribution<int64_t>(0, n - 1)(rng)); }
};

std::mutex g_registry_mutex;
std::unordered_map<int64_t, std::shared_ptr<Model>> g_models;
int64_t g_next_handle = 1;  // ids are never reused, so a stale handle can never reach another model
std::mutex g_init_mutex;    // parameter initialisation draws from libtorch's global generator

std::shared_ptr<Model> lookup(int64_t handle) {
    if (handle == 0) fail(DST_INVALID_HANDLE, "the model handle is null");
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    auto it = g_models.find(handle);
    if (it == g_models.end()) fail(DST_INVALID_HANDLE, msg("model handle ", handle, " does not refer to a live model (it was freed or never created)"));
    return it->second;
}

bool finite_in(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

void validate_config(const dst_model_config& c) {
    if (c.struct_size != static_cast<int32_t>(sizeof(dst_model_config)))
        fail(DST_INVALID_ARGUMENT, msg("model config has struct_size ", c.struct_size, ", expected ", sizeof(dst_model_config), " (mismatched library version)"));
    if (c.encoder < DST_RESNET18 || c.encoder > DST_UNET) fail(DST_INVALID_ARGUMENT, msg("unknown encoder ", c.encoder));
    if (c.method < DST_SIMCLR || c.method > DST_AUTOENCODER) fail(DST_INVALID_ARGUMENT, msg("unknown method ", c.method));
    if (c.s2_channels < 0 || c.s2_channels > 64 || c.s1_channels < 0 || c.s1_channels > 64)
        fail(DST_INVALID_ARGUMENT, msg("channel counts must be 0-64, got S2 ", c.s2_channels, " and S1 ", c.s1_channels));
    if (c.s2_channels + c.s1_channels == 0) fail(DST_INVALID_ARGUMENT, "the model needs at least one input channel (S2 or S1)");
    if (c.embedding_dim < 1 || c.embedding_dim > 8192) fail(DST_INVALID_ARGUMENT, msg("embedding dimension must be 1-8192, got ", c.embedding_dim));
    if (c.method == DST_SIMCLR && (c.projection_dim < 1 || c.projection_dim > 8192))
        fail(DST_INVALID_ARGUMENT, msg("projection dimension must be 1-8192, got ", c.projection_dim));
    if (c.encoder == DST_UNET && (c.unet_width < 4 || c.unet_width > 256)) fail(DST_INVALID_ARGUMENT, msg("UNet width must be 4-256, got ", c.unet_width));
    if (c.device != DST_CPU && c.device != DST_CUDA) fail(DST_INVALID_ARGUMENT, msg("unknown device ", c.device));
    if (c.channels_last != 0 && c.channels_last != 1) fail(DST_INVALID_ARGUMENT, "channels_last must be 0 or 1");
    if (!finite_in(c.learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("learning rate must be in (0, 10], got ", c.learning_rate));
    if (!finite_in(c.weight_decay, 0.0, 1.0)) fail(DST_INVALID_ARGUMENT, msg("weight decay must be 0-1, got ", c.weight_decay));
    if (!finite_in(c.temperature, 1e-4, 100.0)) fail(DST_INVALID_ARGUMENT, msg("temperature must be in [1e-4, 100], got ", c.temperature));
    if (!finite_in(c.triplet_margin, 0.0, 1000.0)) fail(DST_INVALID_ARGUMENT, msg("triplet margin must be 0-1000, got ", c.triplet_margin));
    if (!finite_in(c.modality_dropout, 0.0, 1.0)) fail(DST_INVALID_ARGUMENT, msg("modality dropout must be 0-1, got ", c.modality_dropout));
    if (!finite_in(c.band_noise, 0.0, 10.0)) fail(DST_INVALID_ARGUMENT, msg("band noise must be 0-10, got ", c.band_noise));
}

torch::Device resolve_device(int32_t device) {
    if (device == DST_CUDA) {
        if (!torch::cuda::is_available())
            fail(DST_DEVICE_UNAVAILABLE, "CUDA was requested, but this libtorch has no CUDA support or sees no GPU: build against a CUDA libtorch (LIBTORCH) or use the CPU");
        return torch::Device(torch::kCUDA, 0);
    }
    if (device != DST_CPU) fail(DST_INVALID_ARGUMENT, msg("unknown device ", device));
    return torch::Device(torch::kCPU);
}

std::shared_ptr<Model> build_model(const dst_model_config& cfg) {
    validate_config(cfg);
    install_cpu_allocator();
    auto model = std::make_shared<Model>();
    model->cfg = cfg;
    model->device = resolve_device(cfg.device);
    {
        std::lock_guard<std::mutex> lock(g_init_mutex);
        torch::manual_seed(static_cast<uint64_t>(cfg.seed));
        model->net = Net(cfg);
    }
    model->net->to(model->device);
    if (cfg.channels_last) {
        torch::NoGradGuard no_grad;
        for (auto& p : model->net->parameters()) {
            if (p.dim() == 4) p.set_data(p.data().contiguous(c10::MemoryFormat::ChannelsLast));
        }
    }
    model->rng.seed(static_cast<uint64_t>(cfg.seed) ^ 0x9E3779B97F4A7C15ull);
    model->generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(cfg.seed) + 1);
    model->optimizer = std::make_unique<torch::optim::AdamW>(model->net->parameters(),
                                                             torch::optim::AdamWOptions(cfg.learning_rate).weight_decay(cfg.weight_decay));
    model->net->train();
    return model;
}

int64_t register_model(std::shared_ptr<Model> model) {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    const int64_t handle = g_next_handle++;
    g_models.emplace(handle, std::move(model));
    return handle;
}

// ---------------------------------------------------------------------------------------------
// Batches.

struct Presence {
    std::vector<uint8_t> s2, s1;
};

int64_t checked_count(int64_t a, int64_t b, int64_t c, int64_t d) {
    const long double n = static_cast<long double>(a) * b * c * d;
    if (n > static_cast<long double>(std::numeric_limits<int32_t>::max())) fail(DST_INVALID_ARGUMENT, "the batch is too large: split it");
    return a * b * c * d;
}

void check_modality(const char* name, const float* data, int64_t length, int32_t given, int32_t expected, int64_t count) {
    if (given != expected)
        fail(DST_INVALID_ARGUMENT, msg("the model takes ", expected, " ", name, " channels, the batch has ", given));
    if (expected == 0 && data != nullptr) fail(DST_INVALID_ARGUMENT, msg("the model has no ", name, " input, but the batch has ", name, " data"));
    if (data != nullptr && length != count)
        fail(DST_INVALID_ARGUMENT, msg(name, " data has ", length, " values, expected ", count, " (batch x channels x height x width)"));
}

Presence validate_batch(const Model& m, const dst_batch* b) {
    if (b == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
    if (b->struct_size != static_cast<int32_t>(sizeof(dst_batch)))
        fail(DST_INVALID_ARGUMENT, msg("batch has struct_size ", b->struct_size, ", expected ", sizeof(dst_batch)));
    if (b->batch < 1) fail(DST_INVALID_ARGUMENT, msg("the batch is empty (", b->batch, " samples)"));
    if (b->height < 32 || b->width < 32 || b->height % 32 != 0 || b->width % 32 != 0 || b->height > 8192 || b->width > 8192)
        fail(DST_INVALID_ARGUMENT, msg("patches must be at least 32 x 32 px with sides a multiple of 32, got ", b->height, " x ", b->width));
    check_modality("S2", b->s2, b->s2_length, b->s2_channels, m.cfg.s2_channels, checked_count(b->batch, b->s2_channels, b->height, b->width));
    check_modality("S1", b->s1, b->s1_length, b->s1_channels, m.cfg.s1_channels, checked_count(b->batch, b->s1_channels, b->height, b->width));
    checked_count(b->batch, m.channels(), b->height, b->width);
    Presence p;
    p.s2.assign(b->batch, b->s2 != nullptr ? 1 : 0);
    p.s1.assign(b->batch, b->s1 != nullptr ? 1 : 0);
    for (int32_t i = 0; i < b->batch; ++i) {
        if (b->s2_present != nullptr && b->s2_present[i] == 0) p.s2[i] = 0;
        if (b->s1_present != nullptr && b->s1_present[i] == 0) p.s1[i] = 0;
        if (!p.s2[i] && !p.s1[i]) fail(DST_INVALID_ARGUMENT, msg("sample ", i, " of the batch has neither S2 nor S1 data"));
    }
    return p;
}

// Copies the caller's arrays into the model's reusable input tensor, normalises, and zeroes
// missing modalities (zero is the band mean after normalisation). No tensor outlives the call
// over caller memory: from_blob views are only sources of copy_.
const torch::Tensor& assemble(Model& m, const dst_batch& b, const Presence& p) {
    const int64_t B = b.batch, C = m.channels(), H = b.height, W = b.width;
    const int64_t s2c = m.cfg.s2_channels, s1c = m.cfg.s1_channels;
    if (!m.staging.defined() || m.staging.sizes() != torch::IntArrayRef({B, C, H, W})) {
        m.staging = torch::empty({B, C, H, W}).contiguous(m.format());
    }
    if (m.device.is_cpu()) {
        // One parallel pass per (sample, channel) plane: copy, normalise, nodata (NaN, inf) to 0
        // (the band mean), absent modality to 0.
        const auto mean = m.net->input_mean.contiguous(), stdev = m.net->input_std.contiguous();
        const float* mean_p = mean.data_ptr<float>();
        const float* std_p = stdev.data_ptr<float>();
        float* dst = m.staging.data_ptr<float>();
        const auto ds = m.staging.strides().vec();
        const int64_t plane_size = H * W;
        at::parallel_for(0, B * C, 1, [&](int64_t begin, int64_t end) {
            for (int64_t plane = begin; plane < end; ++plane) {
                const int64_t i = plane / C, c = plane % C;
                const float* src = c < s2c ? (p.s2[i] ? b.s2 + (i * s2c + c) * plane_size : nullptr)
                                           : (p.s1[i] ? b.s1 + (i * s1c + (c - s2c)) * plane_size : nullptr);
                float* o = dst + i * ds[0] + c * ds[1];
                const float shift = mean_p[c], scale = 1.0f / std_p[c];
                for (int64_t y = 0; y < H; ++y) {
                    float* row = o + y * ds[2];
                    const float* in = src == nullptr ? nullptr : src + y * W;
                    for (int64_t x = 0; x < W; ++x) {
                        const float v = in == nullptr ? 0.0f : (in[x] - shift) * scale;
                        row[x * ds[3]] = std::isfinite(v) ? v : 0.0f;
                    }
                }
            }
        });
        m.input = m.staging;
        return m.input;
    }
    // CUDA: staged on the host, copied over, then normalised op by op on the device.
    if (s2c > 0) {
        auto slice = m.staging.narrow(1, 0, s2c);
        if (b.s2) slice.copy_(torch::from_blob(const_cast<float*>(b.s2), {B, s2c, H, W}));
        else slice.zero_();
    }
    if (s1c > 0) {
        auto slice = m.staging.narrow(1, s2c, s1c);
        if (b.s1) slice.copy_(torch::from_blob(const_cast<float*>(b.s1), {B, s1c, H, W}));
        else slice.zero_();
    }
    if (!m.input.defined() || m.input.sizes() != m.staging.sizes()) m.input = torch::empty_like(m.staging, torch::TensorOptions().device(m.device));
    m.input.copy_(m.staging, true);
    m.input.sub_(m.net->input_mean.view({1, C, 1, 1})).div_(m.net->input_std.view({1, C, 1, 1}));
    torch::nan_to_num_(m.input, 0.0, 0.0, 0.0);  // nodata pixels become the band mean
    for (int64_t i = 0; i < B; ++i) {
        if (s2c > 0 && !p.s2[i]) m.input[i].narrow(0, 0, s2c).zero_();
        if (s1c > 0 && !p.s1[i]) m.input[i].narrow(0, s2c, s1c).zero_();
    }
    return m.input;
}

void ensure(torch::Tensor& t, const torch::Tensor& like, int64_t batch) {
    auto sizes = like.sizes().vec();
    sizes[0] = batch;
    if (!t.defined() || t.sizes() != torch::IntArrayRef(sizes)) t = torch::empty(sizes, like.options()).contiguous(like.suggest_memory_format());
}

// Which modality an augmented view keeps: 0 both, 1 S2 only, 2 S1 only.
int choose_modalities(Model& m, bool has_s2, bool has_s1) {
    if (!(has_s2 && has_s1) || m.uniform() >= m.cfg.modality_dropout) return 0;
    return m.uniform() < 0.5 ? 1 : 2;
}

void drop_modality(Model& m, torch::Tensor sample, int keep) {
    if (keep == 1) sample.narrow(0, m.cfg.s2_channels, m.cfg.s1_channels).zero_();
    if (keep == 2) sample.narrow(0, 0, m.cfg.s2_channels).zero_();
}

// Augmented views: random resized crop, flips, quarter-turn rotations, per-band gain and additive
// Gaussian noise, then modality dropout. The random choices are drawn first, serially, from the
// model's generator (so a view depends on the seed and the step, never on the thread count); then
// on the CPU each view is built in one parallel pass over the output (augment_fused), where the
// op-by-op form (augment_reference: used on CUDA, and by dst_self_test_augment as the yardstick)
// makes about ten passes over the batch and draws its noise with a full normal_().

struct ViewParams {
    int64_t y0 = 0, x0 = 0, ch = 0, cw = 0;  // crop window in the source (the whole patch when not cropped)
    bool flip_w = false, flip_h = false;     // flips of the resized crop: W, then H
    int64_t turns = 0;                       // quarter turns after the flips (rot90 over H, W)
    int keep = 0;                            // 0 both modalities, 1 S2 only, 2 S1 only
};

struct ViewPlan {
    std::vector<ViewParams> views;
    std::vector<float> gains;  // [B, C]
    double noise_std = 0;
    uint64_t noise_seed = 0;
};

ViewPlan plan_views(Model& m, const Presence& p, int64_t B, int64_t C, int64_t H, int64_t W, bool crops) {
    ViewPlan plan;
    plan.views.resize(B);
    for (int64_t i = 0; i < B; ++i) {
        auto& v = plan.views[i];
        v.ch = H;
        v.cw = W;
        if (crops) {
            const double scale = std::sqrt(0.35 + 0.65 * m.uniform());
            const int64_t ch = std::max<int64_t>(8, static_cast<int64_t>(H * scale)), cw = std::max<int64_t>(8, static_cast<int64_t>(W * scale));
            if (ch < H || cw < W) {
                v.ch = ch;
                v.cw = cw;
                v.y0 = m.below(H - ch + 1);
                v.x0 = m.below(W - cw + 1);
            }
        }
        v.flip_w = m.uniform() < 0.5;
        v.flip_h = m.uniform() < 0.5;
        v.turns = H == W ? m.below(4) : 2 * m.below(2);
        v.keep = choose_modalities(m, p.s2[i] != 0, p.s1[i] != 0);
    }
    plan.gains.assign(static_cast<size_t>(B * C), 1.0f);
    plan.noise_std = m.cfg.band_noise;
    if (plan.noise_std > 0) {
        std::normal_distribution<double> gain(1.0, plan.noise_std);
        for (auto& g : plan.gains) g = static_cast<float>(gain(m.rng));
        plan.noise_seed = m.rng();
    }
    return plan;
}

bool channel_kept(const Model& m, const Presence& p, const ViewParams& v, int64_t i, int64_t c) {
    const bool s2 = c < m.cfg.s2_channels;
    if (s2 ? !p.s2[i] : !p.s1[i]) return false;
    return !(v.keep == 1 && !s2) && !(v.keep == 2 && s2);
}

void augment_reference(Model& m, const torch::Tensor& x, const Presence& p, const ViewPlan& plan, torch::Tensor& out, int64_t offset, bool noise) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    for (int64_t i = 0; i < B; ++i) {
        const auto& v = plan.views[i];
        torch::Tensor s = x[i];
        if (v.ch < H || v.cw < W) {
            auto crop = s.narrow(1, v.y0, v.ch).narrow(2, v.x0, v.cw).unsqueeze(0);
            s = F::interpolate(crop, F::InterpolateFuncOptions().size(std::vector<int64_t>{H, W}).mode(torch::kBilinear).align_corners(false)).squeeze(0);
        }
        if (v.flip_w) s = s.flip({2});
        if (v.flip_h) s = s.flip({1});
        if (v.turns) s = s.rot90(v.turns, {1, 2});
        out[offset + i].copy_(s);
    }
    auto view = out.narrow(0, offset, B);
    view.mul_(torch::from_blob(const_cast<float*>(plan.gains.data()), {B, C, 1, 1}).to(out.device()));
    if (noise && plan.noise_std > 0) {
        ensure(m.noise, view, B);
        m.noise.normal_(0.0, plan.noise_std, m.gen());
        view.add_(m.noise);
    }
    for (int64_t i = 0; i < B; ++i) {
        for (int64_t c = 0; c < C; ++c) {
            if (!channel_kept(m, p, plan.views[i], i, c)) out[offset + i][c].zero_();
        }
    }
}

// A standard normal value for each 12-bit index: the inverse CDF at the midpoints of 4096 equally
// likely strata, so a uniformly drawn index is a draw from a 4096-level Gaussian.
double inverse_normal_cdf(double q) {
    // Acklam's rational approximation, refined by one Halley step (error below 1e-12).
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
    double z;
    if (q < 0.02425 || q > 1 - 0.02425) {
        const double r = std::sqrt(-2 * std::log(q < 0.5 ? q : 1 - q));
        z = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
        if (q > 0.5) z = -z;
    } else {
        const double r = q - 0.5, r2 = r * r;
        z = (((((a[0] * r2 + a[1]) * r2 + a[2]) * r2 + a[3]) * r2 + a[4]) * r2 + a[5]) * r / (((((b[0] * r2 + b[1]) * r2 + b[2]) * r2 + b[3]) * r2 + b[4]) * r2 + 1);
    }
    const double e = 0.5 * std::erfc(-z / std::sqrt(2.0)) - q;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(z * z / 2);
    return z - u / (1 + z * u / 2);
}

const std::vector<float>& normal_table() {
    static const std::vector<float> table = [] {
        std::vector<float> t(4096);
        for (size_t k = 0; k < t.size(); ++k) t[k] = static_cast<float>(inverse_normal_cdf((static_cast<double>(k) + 0.5) / static_cast<double>(t.size())));
        return t;
    }();
    return table;
}

inline uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// One pass per (sample, channel) plane, planes in parallel. The resampling is
// F::interpolate(bilinear, align_corners=false) of the crop; flips and turns are folded into the
// index mapping; the noise is counter-seeded per plane, so no generator is shared between threads.
void augment_fused(const Model& m, const torch::Tensor& x, const Presence& p, const ViewPlan& plan, torch::Tensor& out, int64_t offset) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const float* src = x.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const auto ss = x.strides().vec(), ds = out.strides().vec();
    const auto& table = normal_table();
    const float noise_std = static_cast<float>(plan.noise_std);
    at::parallel_for(0, B * C, 1, [&](int64_t begin, int64_t end) {
        // Source taps of the resize for each output row and column of the sample in hand.
        std::vector<int64_t> ylo(H), yhi(H), xlo(W), xhi(W);
        std::vector<float> yw(H), xw(W);
        int64_t tapped = -1;
        auto taps = [](int64_t out_size, int64_t in_size, int64_t origin, std::vector<int64_t>& lo, std::vector<int64_t>& hi, std::vector<float>& w) {
            const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
            for (int64_t k = 0; k < out_size; ++k) {
                const double at = std::max(0.0, (static_cast<double>(k) + 0.5) * scale - 0.5);
                const int64_t l = std::min<int64_t>(static_cast<int64_t>(at), in_size - 1);
                lo[k] = origin + l;
                hi[k] = origin + std::min<int64_t>(l + 1, in_size - 1);
                w[k] = static_cast<float>(at - static_cast<double>(l));
            }
        };
        for (int64_t plane = begin; plane < end; ++plane) {
            const int64_t i = plane / C, c = plane % C;
            const auto& v = plan.views[i];
            float* o = dst + (offset + i) * ds[0] + c * ds[1];
            if (!channel_kept(m, p, v, i, c)) {
                for (int64_t y = 0; y < H; ++y)
                    for (int64_t xx = 0; xx < W; ++xx) o[y * ds[2] + xx * ds[3]] = 0.0f;
                continue;
            }
            if (tapped != i) {
                taps(H, v.ch, v.y0, ylo, yhi, yw);
                taps(W, v.cw, v.x0, xlo, xhi, xw);
                tapped = i;
            }
            const float* s = src + i * ss[0] + c * ss[1];
            const float gain = plan.gains[static_cast<size_t>(i * C + c)];
            uint64_t state = plan.noise_seed ^ (static_cast<uint64_t>(offset + i) * 0xD1B54A32D192ED03ull) ^ (static_cast<uint64_t>(c + 1) * 0x8CB92BA72F3D8DD7ull);
            uint64_t bits = 0;
            int left = 0;
            for (int64_t y = 0; y < H; ++y) {
                for (int64_t xx = 0; xx < W; ++xx) {
                    // Undo the turns (each: out[y][x] = in[x][W-1-y]), then the H flip, then the W
                    // flip, to find the pixel (ry, rx) of the resized crop.
                    int64_t ry = y, rx = xx;
                    switch (v.turns) {
                        case 1: ry = xx; rx = W - 1 - y; break;
                        case 2: ry = H - 1 - y; rx = W - 1 - xx; break;
                        case 3: ry = H - 1 - xx; rx = y; break;
                        default: break;
                    }
                    if (v.flip_h) ry = H - 1 - ry;
                    if (v.flip_w) rx = W - 1 - rx;
                    const float* r0 = s + ylo[ry] * ss[2];
                    const float* r1 = s + yhi[ry] * ss[2];
                    const int64_t a = xlo[rx] * ss[3], b = xhi[rx] * ss[3];
                    const float top = r0[a] + (r0[b] - r0[a]) * xw[rx];
                    const float bottom = r1[a] + (r1[b] - r1[a]) * xw[rx];
                    float value = (top + (bottom - top) * yw[ry]) * gain;
                    if (noise_std > 0) {
                        if (left == 0) {
                            bits = splitmix64(state);
                            left = 5;  // five 12-bit indices per 64-bit draw
                        }
                        value += noise_std * table[bits & 4095];
                        bits >>= 12;
                        --left;
                    }
                    o[y * ds[2] + xx * ds[3]] = value;
                }
            }
        }
    });
}

void augment_into(Model& m, const torch::Tensor& x, const Presence& p, torch::Tensor& out, int64_t offset, bool crops) {
    const auto plan = plan_views(m, p, x.size(0), x.size(1), x.size(2), x.size(3), crops);
    if (m.device.is_cpu()) {
        augment_fused(m, x, p, plan, out, offset);
    } else {
        augment_reference(m, x, p, plan, out, offset, true);
    }
}

torch::Tensor nt_xent(const torch::Tensor& z, double temperature) {
    const int64_t n = z.size(0), half = n / 2;
    auto zn = F::normalize(z, F::NormalizeFuncOptions().dim(1));
    auto logits = torch::mm(zn, zn.t()).div_(temperature);
    logits.masked_fill_(torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(z.device())), -1e9);
    auto targets = torch::cat({torch::arange(half, n), torch::arange(0, half)}).to(z.device());
    return F::cross_entropy(logits, targets);
}

torch::Tensor simclr_loss(Model& m, const torch::Tensor& x, const Presence& p) {
    if (x.size(0) < 2) fail(DST_INVALID_ARGUMENT, "SimCLR needs at least 2 samples per batch (the other samples are the negatives)");
    const int64_t B = x.size(0);
    ensure(m.views, x, 2 * B);
    augment_into(m, x, p, m.views, 0, true);
    augment_into(m, x, p, m.views, B, true);
    auto z = m.net->projector->forward(m.net->encode(m.views).embedding);
    return nt_xent(z, m.cfg.temperature);
}

torch::Tensor tile2vec_loss(Model& m, const torch::Tensor& x, const Presence& p) {
    const int64_t B = x.size(0);
    if (B % 3 != 0) fail(DST_INVALID_ARGUMENT, msg("a Tile2Vec batch is anchors, neighbours and distant patches: its size must be a multiple of 3, got ", B));
    ensure(m.views, x, B);
    augment_into(m, x, p, m.views, 0, false);
    auto z = m.net->encode(m.views).embedding;
    auto parts = z.chunk(3, 0);
    auto near = (parts[0] - parts[1]).norm(2, 1);
    auto far = (parts[0] - parts[2]).norm(2, 1);
    auto triplet = torch::relu(near - far + m.cfg.triplet_margin).mean();
    // Tile2Vec's embedding-norm penalty keeps the margin meaningful.
    return triplet + 0.01 * z.norm(2, 1).mean();
}

torch::Tensor autoencoder_loss(Model& m, const torch::Tensor& x, const Presence& p) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    ensure(m.views, x, B);
    m.views.copy_(x);
    // Denoising + inpainting: noise, dropped modalities and masked 8 x 8 blocks must be
    // reconstructed (a UNet with skips would otherwise learn the identity).
    if (m.cfg.band_noise > 0) {
        ensure(m.noise, x, B);
        m.noise.normal_(0.0, m.cfg.band_noise, m.gen());
        m.views.add_(m.noise);
    }
    auto blocks = torch::empty({B, 1, H / 8, W / 8}, x.options().memory_format(c10::MemoryFormat::Contiguous));
    blocks.uniform_(0.0, 1.0, m.gen());
    auto keep_mask = blocks.ge(0.5).to(x.scalar_type()).repeat_interleave(8, 2).repeat_interleave(8, 3);
    m.views.mul_(keep_mask);
    auto weight = torch::zeros({B, C, 1, 1}, x.options());
    for (int64_t i = 0; i < B; ++i) {
        if (m.cfg.s2_channels > 0 && p.s2[i]) weight[i].narrow(0, 0, m.cfg.s2_channels).fill_(1.0);
        if (m.cfg.s1_channels > 0 && p.s1[i]) weight[i].narrow(0, m.cfg.s2_channels, m.cfg.s1_channels).fill_(1.0);
        auto sample = m.views[i];
        if (m.cfg.s2_channels > 0 && !p.s2[i]) sample.narrow(0, 0, m.cfg.s2_channels).zero_();
        if (m.cfg.s1_channels > 0 && !p.s1[i]) sample.narrow(0, m.cfg.s2_channels, m.cfg.s1_channels).zero_();
        drop_modality(m, sample, choose_modalities(m, p.s2[i] != 0, p.s1[i] != 0));
    }
    auto encoded = m.net->encode(m.views);
    auto reconstruction = m.net->decoder->forward(encoded.spatial);
    auto error = (reconstruction - x).pow(2).mul(weight);
    return error.sum() / (weight.sum() * H * W).clamp_min(1.0);
}

void copy_out(const torch::Tensor& values, float* output, int64_t output_length, const char* what) {
    if (output == nullptr) fail(DST_INVALID_ARGUMENT, msg("the ", what, " output buffer is null"));
    if (values.numel() != output_length)
        fail(DST_INVALID_ARGUMENT, msg("the ", what, " output buffer holds ", output_length, " floats, ", values.numel(), " are needed"));
    auto cpu = values.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    std::memcpy(output, cpu.data_ptr<float>(), sizeof(float) * static_cast<size_t>(output_length));
}

template <class Body>
void in_eval_mode(Model& m, Body&& body) {
    torch::NoGradGuard no_grad;
    m.net->eval();
    try {
        body();
    } catch (...) {
        m.net->train();
        throw;
    }
    m.net->train();
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: a pickled dict (torch.load reads it) with format tag, config, step and state dict.

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

std::string version_text() {
    return msg("deepsentinel_torch 0.1.0 (abi ", DST_ABI_VERSION, "); libtorch ", TORCH_VERSION, "; cuda ", torch::cuda::is_available() ? "available" : "not available");
}

}  // namespace

// -------------------------------------------------------------------------------------------------
// The C ABI.

extern "C" {

DST_API int32_t dst_abi_version(void) { return DST_ABI_VERSION; }

DST_API const char* dst_version(void) {
    static const std::string text = [] {
        try {
            return version_text();
        } catch (...) {
            return std::string("deepsentinel_torch 0.1.0");
        }
    }();
    return text.c_str();
}

DST_API const char* dst_last_error(void) { return t_has_error ? t_error.c_str() : nullptr; }

DST_API int32_t dst_last_status(void) { return t_status; }

DST_API int32_t dst_set_num_threads(int32_t threads) {
    return guarded([&] {
        if (threads < 1 || threads > 4096) fail(DST_INVALID_ARGUMENT, msg("thread count must be 1-4096, got ", threads));
        at::set_num_threads(threads);
    });
}

DST_API int32_t dst_get_num_threads(void) { return at::get_num_threads(); }

DST_API int32_t dst_set_cpu_cache_limit(int64_t bytes) {
    return guarded([&] {
        if (bytes < 0) fail(DST_INVALID_ARGUMENT, msg("the CPU cache limit must be 0 or more bytes, got ", bytes));
        auto& c = block_cache();
        {
            std::lock_guard<std::mutex> lock(c.mutex);
            c.limit = static_cast<size_t>(bytes);
        }
        if (bytes == 0) empty_block_cache();
    });
}

DST_API int32_t dst_cpu_cache_stats(dst_cache_stats* stats) {
    return guarded([&] {
        if (stats == nullptr) fail(DST_INVALID_ARGUMENT, "the stats output is null");
        if (stats->struct_size != static_cast<int32_t>(sizeof(dst_cache_stats)))
            fail(DST_INVALID_ARGUMENT, msg("stats has struct_size ", stats->struct_size, ", expected ", sizeof(dst_cache_stats)));
        auto& c = block_cache();
        std::lock_guard<std::mutex> lock(c.mutex);
        stats->hits = static_cast<int64_t>(c.hits);
        stats->misses = static_cast<int64_t>(c.misses);
        stats->cached_bytes = static_cast<int64_t>(c.cached_bytes);
        stats->live_bytes = static_cast<int64_t>(c.live_bytes);
        stats->limit_bytes = static_cast<int64_t>(c.limit);
    });
}

DST_API int32_t dst_cuda_device_count(void) {
    int32_t count = 0;
    guarded([&] { count = static_cast<int32_t>(torch::cuda::device_count()); });
    return count;
}

DST_API int64_t dst_model_create(const dst_model_config* config) {
    return guarded_handle([&] {
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, "the model config is null");
        return register_model(build_model(*config));
    });
}

DST_API int64_t dst_model_load(const char* checkpoint_path, const char* optimizer_path, int32_t device) {
    return guarded_handle([&] {
        if (checkpoint_path == nullptr || *checkpoint_path == '\0') fail(DST_INVALID_ARGUMENT, "the checkpoint path is empty");
        return register_model(load_model(checkpoint_path, optimizer_path, device));
    });
}

DST_API int32_t dst_model_free(int64_t model) {
    return guarded([&] {
        std::shared_ptr<Model> doomed;  // destroyed outside the registry lock
        bool last = false;
        {
            std::lock_guard<std::mutex> lock(g_registry_mutex);
            auto it = g_models.find(model);
            if (it == g_models.end()) fail(DST_INVALID_HANDLE, msg("model handle ", model, " does not refer to a live model (already freed?)"));
            doomed = std::move(it->second);
            g_models.erase(it);
            last = g_models.empty();
        }
        doomed.reset();
        if (last) empty_block_cache();  // nothing is training: give the cached blocks back
    });
}

DST_API int32_t dst_model_get_config(int64_t model, dst_model_config* config) {
    return guarded([&] {
        auto m = lookup(model);
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, "the config output is null");
        std::lock_guard<std::mutex> lock(m->mutex);
        *config = m->cfg;
    });
}

DST_API int32_t dst_model_set_normalization(int64_t model, const float* mean, const float* std, int32_t channels) {
    return guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        if (mean == nullptr || std == nullptr) fail(DST_INVALID_ARGUMENT, "normalisation mean or std is null");
        if (channels != m->channels()) fail(DST_INVALID_ARGUMENT, msg("normalisation has ", channels, " channels, the model has ", m->channels()));
        for (int32_t i = 0; i < channels; ++i) {
            if (!std::isfinite(mean[i]) || !std::isfinite(std[i]) || std[i] <= 0)
                fail(DST_INVALID_ARGUMENT, msg("band ", i, ": mean must be finite and std positive, got ", mean[i], " and ", std[i]));
        }
        torch::NoGradGuard no_grad;
        m->net->input_mean.copy_(torch::from_blob(const_cast<float*>(mean), {channels}));
        m->net->input_std.copy_(torch::from_blob(const_cast<float*>(std), {channels}));
    });
}

DST_API int32_t dst_model_get_normalization(int64_t model, float* mean, float* std, int32_t channels) {
    return guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        if (channels != m->channels()) fail(DST_INVALID_ARGUMENT, msg("asked for ", channels, " channels, the model has ", m->channels()));
        copy_out(m->net->input_mean, mean, channels, "mean");
        copy_out(m->net->input_std, std, channels, "std");
    });
}

DST_API int32_t dst_model_set_learning_rate(int64_t model, double learning_rate) {
    return guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        if (!finite_in(learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("learning rate must be in (0, 10], got ", learning_rate));
        for (auto& group : m->optimizer->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate);
        m->cfg.learning_rate = learning_rate;
    });
}

DST_API int64_t dst_model_step(int64_t model) {
    int64_t step = -1;
    guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        step = m->step;
    });
    return step;
}

DST_API int32_t dst_model_parameter_count(int64_t model, int64_t* count) {
    return guarded([&] {
        auto m = lookup(model);
        if (count == nullptr) fail(DST_INVALID_ARGUMENT, "the count output is null");
        std::lock_guard<std::mutex> lock(m->mutex);
        int64_t n = 0;
        for (const auto& p : m->net->parameters()) n += p.numel();
        *count = n;
    });
}

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
        m->optimizer->step();
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

DST_API int32_t dst_model_save(int64_t model, const char* checkpoint_path, const char* optimizer_path) {
    return guarded([&] {
        auto m = lookup(model);
        if (checkpoint_path == nullptr || *checkpoint_path == '\0') fail(DST_INVALID_ARGUMENT, "the checkpoint path is empty");
        std::lock_guard<std::mutex> lock(m->mutex);
        save_model(*m, checkpoint_path, optimizer_path);
    });
}

}  // extern "C"
