#pragma once
// The pretraining objectives: SimCLR's NT-Xent, Tile2Vec's triplet loss, a masked autoencoder.
#include "augmentation.h"

namespace ds {

torch::Tensor nt_xent(const torch::Tensor& z, double temperature);
torch::Tensor simclr_loss(Model& m, const torch::Tensor& x, const Presence& p);
torch::Tensor tile2vec_loss(Model& m, const torch::Tensor& x, const Presence& p);
torch::Tensor autoencoder_loss(Model& m, const torch::Tensor& x, const Presence& p);

}  // namespace ds
