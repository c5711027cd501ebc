// The NALU paper's Figure 1 (Trask et al. 2018): scalar autoencoders x -> 8 -> 8 -> 8 -> x,
// one family of models per hidden-layer activation plus a stack of NACs, trained on a small
// range and evaluated far outside it. MLPs learn the identity only where they were trained;
// the NAC, linear by construction, extrapolates. Every family's models are trained together as
// one BatchedStack (nalu/models/batched.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nalu/experiments/experiment.h"

namespace nalu {

/// The paper's fifteen activations, as activation_names() spells them: elu, hardtanh,
/// leaky-relu, log-sigmoid, prelu, relu, relu6, rrelu, selu, sigmoid, softplus, softshrink,
/// softsign, tanh, tanhshrink.
const std::vector<std::string>& identity_paper_activations();

/// One identity experiment, reproducible from this struct alone.
///
/// Example:
/// ```
/// nalu::IdentityConfig config = nalu::IdentityConfig::quick();
/// config.families = {"relu6", "tanh", "nac"};
/// nalu::IdentityResult result = nalu::run_identity(config);
/// ```
struct IdentityConfig {
  /// Activation names (activation_names()) for MLP families, "nac" for the NAC stack.
  /// Default: the paper's fifteen activations, then "nac".
  std::vector<std::string> families;
  int64_t models = 100;                   // per family (the paper's 100)
  std::vector<int64_t> hidden{8, 8, 8};   // the paper's 3 hidden layers of 8
  int64_t steps = 10'000;                 // the paper's 10,000 iterations
  int64_t batch_size = 64;                // per model (the paper does not say)
  double learning_rate = 1e-2;            // Adam (the paper: learning rate 0.01)
  double train_low = -5, train_high = 5;  // training inputs U[train_low, train_high]
  double test_low = -20, test_high = 20;  // the evaluation grid
  int64_t grid_points = 401;              // evenly spaced over [test_low, test_high]
  uint64_t seed = 0;
  int64_t threads = 0;  // families trained side by side; 0: one per core

  IdentityConfig();
  /// The paper's size: 100 models per family, 10,000 steps.
  static IdentityConfig paper() { return IdentityConfig(); }
  /// The reduced size of `--quick`: 10 models per family, 2,000 steps.
  static IdentityConfig quick();
  /// Throws nalu::Error with a one-line message for invalid settings.
  void validate() const;
};

/// The trained models of one family, evaluated on the grid.
struct IdentityFamilyResult {
  std::string family;
  int64_t models = 0;
  /// Models whose weights or grid outputs stopped being finite; left out of every mean.
  int64_t diverged = 0;
  /// Mean over the finite models of |f_m(x) - x| at each grid point.
  std::vector<double> mean_absolute_error;
  /// The grid means of mean_absolute_error inside and outside the training range.
  double interpolation_mae = 0.0, extrapolation_mae = 0.0;
  /// Per model (NaN for diverged ones): grid means inside and outside the training range.
  std::vector<double> model_interpolation_mae, model_extrapolation_mae;
  /// Mean squared error of the last training batch, averaged over the finite models.
  double final_train_mse = 0.0;
  double seconds = 0.0;
};

struct IdentityResult {
  IdentityConfig config;  // with families resolved
  std::vector<double> grid;
  std::vector<IdentityFamilyResult> families;  // in config.families order
  double seconds = 0.0;
};

/// Trains and evaluates every family; progress counts training steps over all families.
IdentityResult run_identity(const IdentityConfig& config, const ExperimentProgress& progress = {});

/// The catalogue entry's run function: IdentityConfig::paper() or quick(), runs it and writes
/// identity.svg (MAE against x, log scale), identity.md (the table) and identity.jsonl (one
/// record per family: settings, curve, per-model errors) into options.output_dir.
ExperimentReport run_identity_experiment(const ExperimentOptions& options,
                                         const ExperimentProgress& progress);

}  // namespace nalu
