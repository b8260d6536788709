/*
 * DeepSentinel's native training engine: a coarse C ABI over the libtorch C++ frontend.
 *
 * Conventions (after TorchSharp's LibTorchSharp):
 *  - Models are opaque handles: positive 64-bit ids looked up in a registry, never raw pointers,
 *    so a freed or invented handle is reported as an error instead of crashing the process.
 *  - Every function returns a status (0 = success, otherwise a dst_status value) or, for
 *    constructors, a handle (0 = failure). After a failure dst_last_error() returns a message for
 *    the calling thread; it stays valid until that thread's next call into this library.
 *  - No C++ exception crosses this boundary; every input (sizes, lengths, null pointers,
 *    channel counts) is checked before libtorch sees it.
 *  - Input buffers are only read during the call: the library copies them and never keeps a
 *    pointer to caller memory.
 */
#ifndef DEEPSENTINEL_TORCH_H
#define DEEPSENTINEL_TORCH_H

#include <stdint.h>

#if defined(_WIN32)
#define DST_API __declspec(dllexport)
#else
#define DST_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct layout or function signature changes; the managed side checks it. */
#define DST_ABI_VERSION 3

typedef enum dst_status {
    DST_OK = 0,
    DST_INVALID_ARGUMENT = 1, /* wrong shape, channel count, length, null pointer, bad option */
    DST_INVALID_HANDLE = 2,   /* unknown, freed or zero model handle */
    DST_IO_ERROR = 3,         /* a file could not be read or written */
    DST_CORRUPT_FILE = 4,     /* a file is not a DeepSentinel checkpoint, or is damaged */
    DST_DEVICE_UNAVAILABLE = 5, /* CUDA requested where libtorch has no CUDA or no GPU */
    DST_INTERNAL = 6          /* libtorch failed (out of memory, numerical error, ...) */
} dst_status;

typedef enum dst_encoder { DST_RESNET18 = 0, DST_RESNET50 = 1, DST_UNET = 2 } dst_encoder;
typedef enum dst_method { DST_SIMCLR = 0, DST_TILE2VEC = 1, DST_AUTOENCODER = 2 } dst_method;
typedef enum dst_device { DST_CPU = 0, DST_CUDA = 1 } dst_device;

/* Everything that defines a model. struct_size must be sizeof(dst_model_config). */
typedef struct dst_model_config {
    int32_t struct_size;
    int32_t encoder;          /* dst_encoder */
    int32_t method;           /* dst_method */
    int32_t s2_channels;      /* Sentinel-2 bands first in the input, 0 if none (usually 12) */
    int32_t s1_channels;      /* Sentinel-1 bands after them, 0 if none (usually 2) */
    int32_t embedding_dim;    /* length of a sample embedding, and per-pixel depth for UNet */
    int32_t projection_dim;   /* SimCLR projection head output */
    int32_t unet_width;       /* UNet channels at full resolution */
    int32_t device;           /* dst_device */
    int32_t channels_last;    /* 1: NHWC memory format (faster on CUDA; NCHW is faster with Debian's CPU libtorch) */
    int64_t seed;             /* initial weights and augmentation randomness */
    double learning_rate;     /* AdamW */
    double weight_decay;
    double temperature;       /* NT-Xent */
    double triplet_margin;    /* Tile2Vec */
    double modality_dropout;  /* probability that a view or input loses one modality */
    double band_noise;        /* std of additive Gaussian band noise, in normalised units */
} dst_model_config;

/*
 * One batch, sample-major float32 arrays: s2 is [batch, s2_channels, height, width], s1 is
 * [batch, s1_channels, height, width] (raw values; the model normalises them with its stored
 * statistics). s2_present / s1_present hold one byte per sample (0 = that modality is missing,
 * e.g. clouded); NULL means present for all. A modality the model has no channels for is NULL.
 * For Tile2Vec training, the batch is [anchors; neighbours; distant] (batch divisible by 3).
 */
typedef struct dst_batch {
    int32_t struct_size;
    int32_t batch;
    int32_t height;
    int32_t width;
    int32_t s2_channels;
    int32_t s1_channels;
    const float* s2;
    int64_t s2_length;
    const float* s1;
    int64_t s1_length;
    const uint8_t* s2_present;
    const uint8_t* s1_present;
} dst_batch;

DST_API int32_t dst_abi_version(void);
/* A static description: library, libtorch and CUDA versions. */
DST_API const char* dst_version(void);
/* The calling thread's last error message, or NULL if its last call succeeded. */
DST_API const char* dst_last_error(void);
/* The calling thread's last status (a dst_status; DST_OK if its last call succeeded). Functions
   that return a handle report failure as 0: this says why. */
DST_API int32_t dst_last_status(void);
DST_API int32_t dst_set_num_threads(int32_t threads);
DST_API int32_t dst_get_num_threads(void);

/*
 * The library's CPU block cache: libtorch's CPU buffers of 1 MiB and more are kept when freed and
 * reused (a training step re-allocates the same activations every step). The cache holds at most
 * limit_bytes of free blocks (default 4 GiB; 0 turns caching off and empties it) and is emptied
 * when the last model is freed. struct_size must be sizeof(dst_cache_stats).
 */
typedef struct dst_cache_stats {
    int32_t struct_size;
    int32_t reserved;
    int64_t hits;         /* large requests served from the cache */
    int64_t misses;       /* large requests that needed a new block */
    int64_t cached_bytes; /* free blocks held for reuse */
    int64_t live_bytes;   /* large blocks in use */
    int64_t limit_bytes;
} dst_cache_stats;
DST_API int32_t dst_set_cpu_cache_limit(int64_t bytes);
DST_API int32_t dst_cpu_cache_stats(dst_cache_stats* stats);

/* Checks the fused CPU augmentation against the op-by-op libtorch form on random data: the largest
 * difference of the geometric part (crop, resize, flips, turns, gains, modality dropout) and the
 * mean and std of the noise alone at std 0.1. For tests. */
DST_API int32_t dst_self_test_augment(double* max_abs_difference, double* noise_mean, double* noise_std);
/* Checks the engine's fused AdamW step against libtorch's AdamW::step() on random parameters and
 * gradients (two groups, weight decay on and off, a parameter without a gradient on some steps):
 * the largest difference of the parameters and of the moments after the steps. For tests. */
DST_API int32_t dst_self_test_adamw(double* max_parameter_difference, double* max_moment_difference, int64_t* steps_checked);
DST_API int32_t dst_cuda_device_count(void);

DST_API int64_t dst_model_create(const dst_model_config* config);
/* Loads a checkpoint written by dst_model_save; optimizer_path may be NULL (inference only). */
DST_API int64_t dst_model_load(const char* checkpoint_path, const char* optimizer_path, int32_t device);
DST_API int32_t dst_model_free(int64_t model);
DST_API int32_t dst_model_get_config(int64_t model, dst_model_config* config);
DST_API int32_t dst_model_set_normalization(int64_t model, const float* mean, const float* std, int32_t channels);
DST_API int32_t dst_model_get_normalization(int64_t model, float* mean, float* std, int32_t channels);
DST_API int32_t dst_model_set_learning_rate(int64_t model, double learning_rate);
DST_API int64_t dst_model_step(int64_t model);
DST_API int32_t dst_model_parameter_count(int64_t model, int64_t* count);
/* One optimisation step; the loss is written to *loss and the step counter advances. */
DST_API int32_t dst_model_train_step(int64_t model, const dst_batch* batch, float* loss);
/* Embeddings in eval mode: output has batch * embedding_dim floats (output_length checked). */
DST_API int32_t dst_model_embed(int64_t model, const dst_batch* batch, float* output, int64_t output_length);
/* Per-pixel embeddings (UNet only): batch * embedding_dim * height * width floats. */
DST_API int32_t dst_model_embed_pixels(int64_t model, const dst_batch* batch, float* output, int64_t output_length);
/* The checkpoint is a pickled dict that Python's torch.load reads; the optimizer file is libtorch's archive. */
DST_API int32_t dst_model_save(int64_t model, const char* checkpoint_path, const char* optimizer_path);


/*
 * Fine-tuning (issue 14): a classification head on a model's encoder. A classifier handle shares
 * the encoder of the model it was created from (a pretrained checkpoint from dst_model_load, or a
 * fresh dst_model_create for training from scratch); the model handle may be freed afterwards.
 * ResNet encoders only (UNet models are refused: their task is per-pixel).
 * struct_size must be sizeof(dst_classifier_config).
 */
typedef struct dst_classifier_config {
    int32_t struct_size;
    int32_t classes;               /* 2-1000 */
    int32_t multi_label;           /* 0: softmax + weighted cross-entropy; 1: sigmoid + weighted binary cross-entropy */
    int32_t freeze_encoder;        /* 1: linear probe (encoder in eval mode, no gradients); 0: fine-tune everything */
    int64_t seed;                  /* initial head weights */
    double head_learning_rate;     /* AdamW */
    double encoder_learning_rate;  /* AdamW, for the encoder when not frozen (usually lower) */
    double weight_decay;
} dst_classifier_config;

DST_API int64_t dst_classifier_create(int64_t model, const dst_classifier_config* config);
DST_API int32_t dst_classifier_free(int64_t classifier);
/* Per-class loss weights (classes floats, finite, >= 0, not all 0); the default is 1 for all. */
DST_API int32_t dst_classifier_set_class_weights(int64_t classifier, const float* weights, int32_t classes);
/* One step. targets: single-label, batch floats holding class indices 0..classes-1; multi-label,
   batch * classes floats of 0 or 1. */
DST_API int32_t dst_classifier_train_step(int64_t classifier, const dst_batch* batch, const float* targets, int64_t targets_length, float* loss);
/* Class probabilities in eval mode, batch * classes floats (softmax rows; sigmoid per class for multi-label). */
DST_API int32_t dst_classifier_predict(int64_t classifier, const dst_batch* batch, float* probabilities, int64_t length);
DST_API int64_t dst_classifier_step(int64_t classifier);
/* Writes the encoder as a model checkpoint (dst_model_load and torch.load read it) and the head as
   a pickled dict {format: "deepsentinel-classifier-head", classes, multi_label, freeze_encoder, step,
   state_dict: {weight, bias}, class_weights}. */
DST_API int32_t dst_classifier_save(int64_t classifier, const char* encoder_path, const char* head_path);
/* Restores a head written by dst_classifier_save into a classifier created with the same classes. */
DST_API int32_t dst_classifier_load_head(int64_t classifier, const char* head_path);

/*
 * Super-resolution networks (DSen2 and VDSen2, Lanaras et al. 2018) behind handles of their own
 * (dst_sr_*; a dst_model_* handle is not one of them, nor the other way round). The 2x model
 * recovers the mid (20 m) bands at the fine (10 m) resolution from the fine and mid bands; the 6x
 * model the coarse (60 m) bands from all three. Bands are DN; the network divides them by
 * input_scale, upsamples the mid and coarse bands bilinearly to the fine grid, concatenates,
 * and adds the upsampled recovered bands to its output (the skip connection).
 * struct_size must be sizeof(dst_sr_config).
 */
typedef struct dst_sr_config {
    int32_t struct_size;
    int32_t factor;           /* 2 or 6 */
    int32_t blocks;           /* residual blocks: 6 for DSen2, 32 for VDSen2 */
    int32_t features;         /* features per convolution: 128 for DSen2, 256 for VDSen2 */
    int32_t fine_channels;    /* 10 m bands (4) */
    int32_t mid_channels;     /* 20 m bands (6) */
    int32_t coarse_channels;  /* 60 m bands (2) for the 6x model, 0 for the 2x model */
    int32_t device;           /* dst_device */
    int64_t seed;             /* initial weights */
    double learning_rate;     /* Adam */
    double input_scale;       /* inputs are divided by it (the paper's 2000) */
} dst_sr_config;

/* One batch, sample-major float32: fine [batch, fine_channels, height, width], mid [batch,
 * mid_channels, height/2, width/2], coarse [batch, coarse_channels, height/6, width/6] (6x only,
 * else NULL), target [batch, outputs, height, width] (training only; outputs are the mid bands
 * for 2x, the coarse bands for 6x). height and width are multiples of the factor. */
typedef struct dst_sr_batch {
    int32_t struct_size;
    int32_t batch;
    int32_t height;
    int32_t width;
    const float* fine;
    int64_t fine_length;
    const float* mid;
    int64_t mid_length;
    const float* coarse;
    int64_t coarse_length;
    const float* target;
    int64_t target_length;
} dst_sr_batch;

DST_API int64_t dst_sr_create(const dst_sr_config* config);
/* Loads a checkpoint written by dst_sr_save; optimizer_path may be NULL (inference only). */
DST_API int64_t dst_sr_load(const char* checkpoint_path, const char* optimizer_path, int32_t device);
DST_API int32_t dst_sr_free(int64_t model);
DST_API int32_t dst_sr_get_config(int64_t model, dst_sr_config* config);
DST_API int64_t dst_sr_step(int64_t model);
DST_API int32_t dst_sr_parameter_count(int64_t model, int64_t* count);
DST_API int32_t dst_sr_set_learning_rate(int64_t model, double learning_rate);
/* One Adam step on the L1 loss between the output and target / input_scale; *loss receives it. */
DST_API int32_t dst_sr_train_step(int64_t model, const dst_sr_batch* batch, float* loss);
/* The recovered bands in DN: output_length must be batch * outputs * height * width. */
DST_API int32_t dst_sr_predict(int64_t model, const dst_sr_batch* batch, float* output, int64_t output_length);
/* A pickled dict torch.load reads ("format": "deepsentinel-superres", config, step, state_dict). */
DST_API int32_t dst_sr_save(int64_t model, const char* checkpoint_path, const char* optimizer_path);

/* Fine-tuning robustness (issue 14). Augmentation of the training input of dst_classifier_train_step:
   1 = a random horizontal and vertical flip and a random quarter turn per sample (half turns when
   the patch is not square), drawn from the encoder model's seeded stream; 0 = none (the default). */
DST_API int32_t dst_classifier_set_augmentation(int64_t classifier, int32_t flips_rotations);
/* The classifier's AdamW state (both parameter groups; a libtorch archive), written to
   optimizer_path + ".partial" and renamed into place; loaded into a classifier created with the
   same model and config, after dst_classifier_load_head, to resume fine-tuning. */
DST_API int32_t dst_classifier_save_optimizer(int64_t classifier, const char* optimizer_path);
DST_API int32_t dst_classifier_load_optimizer(int64_t classifier, const char* optimizer_path);
/*
 * Segmentation (issue 14): a per-pixel classification head on a UNet model, behind its own handles
 * (dst_segmenter_*). The logits are a 1x1 convolution over the UNet decoder's full-resolution
 * features (its last double convolution, unet_width channels); the UNet's own 1x1 embedding head is
 * not used. The encoder path is enc1, enc2, enc3, bottom; the decoder is up3, dec3, up2, dec2, up1,
 * dec1. A segmenter shares the model it was created from (the model handle may be freed afterwards).
 * ResNet models are refused: they have no decoder at full resolution.
 * struct_size must be sizeof(dst_segmenter_config).
 */
typedef struct dst_segmenter_config {
    int32_t struct_size;
    int32_t classes;               /* 2-1000 */
    int32_t freeze_encoder;        /* 1: encoder path in eval mode without gradients, decoder + head trained; 0: everything trained */
    int32_t reserved;              /* 0 */
    int64_t seed;                  /* initial head weights */
    double head_learning_rate;     /* AdamW, decoder and head */
    double encoder_learning_rate;  /* AdamW, the encoder path when not frozen (usually lower) */
    double weight_decay;
} dst_segmenter_config;

DST_API int64_t dst_segmenter_create(int64_t model, const dst_segmenter_config* config);
DST_API int32_t dst_segmenter_free(int64_t segmenter);
/* Per-class loss weights (classes floats, finite, >= 0, not all 0); the default is 1 for all. */
DST_API int32_t dst_segmenter_set_class_weights(int64_t segmenter, const float* weights, int32_t classes);
/* One step of per-pixel weighted cross-entropy. targets: batch * height * width class indices
   0..classes-1, or -1 for a pixel without a label (ignored: no loss, no gradient). A batch without
   any labelled pixel is refused. */
DST_API int32_t dst_segmenter_train_step(int64_t segmenter, const dst_batch* batch, const int32_t* targets, int64_t targets_length, float* loss);
/* Per-pixel class probabilities in eval mode (softmax over classes): batch * classes * height * width floats. */
DST_API int32_t dst_segmenter_predict(int64_t segmenter, const dst_batch* batch, float* probabilities, int64_t length);
DST_API int64_t dst_segmenter_step(int64_t segmenter);
/* Writes the UNet as a model checkpoint (dst_model_load and torch.load read it) and the head as a
   pickled dict {format: "deepsentinel-segmentation-head", classes, freeze_encoder, step, features:
   "decoder", state_dict: {weight [classes, unet_width, 1, 1], bias}, class_weights}. */
DST_API int32_t dst_segmenter_save(int64_t segmenter, const char* encoder_path, const char* head_path);
/* Restores a head written by dst_segmenter_save into a segmenter created with the same classes. */
DST_API int32_t dst_segmenter_load_head(int64_t segmenter, const char* head_path);
/* Segmentation robustness (issue 14): the segmenter's AdamW state (the decoder-and-head group and,
   unless the encoder path is frozen, its group; a libtorch archive), written to optimizer_path +
   ".partial" and renamed into place; loaded into a segmenter created with the same model and config,
   after dst_segmenter_load_head, to resume training. */
DST_API int32_t dst_segmenter_save_optimizer(int64_t segmenter, const char* optimizer_path);
DST_API int32_t dst_segmenter_load_optimizer(int64_t segmenter, const char* optimizer_path);

#ifdef __cplusplus
}
#endif

#endif
