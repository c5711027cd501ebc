// The fused engine: trains a stack of arithmetic units on the static task with hand-written
// forward, backward, regulariser, clamping and optimiser over raw float buffers, vectorised
// for the running CPU. It starts from the same LibTorch initialisation as the torch engine,
// sees the same counter-based batches (BatchStream) and evaluates on the same fixed sets, so
// the two engines follow the same trajectory up to floating-point rounding. Formulas and
// sparsity errors are read through the LibTorch units themselves.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "nalu/train/checkpoint.h"
#include "nalu/train/config.h"
#include "nalu/train/trainer.h"

namespace nalu {

/// Names accepted as RunConfig::engine: "auto" (fused where it applies, else torch), "fused",
/// "torch".
const std::vector<std::string>& engine_names();

/// The engine run(config) uses: "fused" or "torch". Throws nalu::Error when config.engine is
/// "fused" but the fused engine cannot train this configuration, saying why.
std::string resolve_engine(const RunConfig& config);

/// A trained `model`'s figures on `task`'s interpolation and extrapolation sets, computed by
/// the engine that trains `config` (resolve_engine), so that they match that run's own
/// evaluations to the last digit, and its sparsity error. Step and training loss stay 0.
/// `nalu eval` uses it.
Evaluation evaluate_as_trained(const RunConfig& config, StackImpl& model,
                               const ArithmeticTask& task);

namespace fused {

/// Empty when the fused engine can train `config`, else the reason it cannot.
std::string unsupported_reason(const RunConfig& config);

/// Trains `config` with the fused engine (as nalu::run does with the torch engine). Throws
/// nalu::Error when unsupported_reason(config) is not empty, and NumericalError on divergence.
TrainResult train(const RunConfig& config, const ProgressCallback& on_progress = {},
                  int64_t progress_interval = 100);
/// The same under `control` (checkpoints, resumption, stop requests; nalu/train/checkpoint.h).
TrainResult train(const RunConfig& config, const ProgressCallback& on_progress,
                  int64_t progress_interval, const RunControl& control);

/// Runs whose training batches have the same inputs have the same non-empty key: fused runs of
/// one seed, batch size, input size, training range and integer flag, whatever their
/// operation, subsets or extrapolation range (which give only the targets and the evaluation
/// sets), such as every unit and operation of a bench table for one seed. Empty for a run the
/// fused engine does not train or a table task.
std::string batch_key(const RunConfig& config);

/// One run of train_together: its result, or the exception it ended with.
struct TogetherOutcome {
  std::optional<TrainResult> result;
  std::exception_ptr error;
};

/// Trains `configs` (all with one batch_key) in one pass on the calling thread: each step's
/// inputs are drawn once (with the logs of them that NAC-mul and NALU first layers take), each
/// task's targets for them are computed once, and every run takes them in turn; the runs of
/// one task share one copy of its evaluation sets. Each run gives the result train(config,
/// {}, 100, control) gives, step for step, except that its wall time is the pass's and
/// result.runs_in_pass counts the runs; a run that diverges or stops ends alone, with its
/// exception in its outcome. Throws nalu::Error when the keys differ.
///
/// Example:
/// ```
/// std::vector<nalu::RunConfig> configs = {nau_add_config, nac_mul_config};  // one seed, range
/// auto outcomes = nalu::fused::train_together(configs, {nalu::RunControl{}, nalu::RunControl{}});
/// double mse = outcomes[0].result->best.extrapolation_mse;
/// ```
std::vector<TogetherOutcome> train_together(const std::vector<RunConfig>& configs,
                                            const std::vector<RunControl>& controls);

/// `nalu::evaluate` (MSE, share within atol + rtol * |target|) computed with the fused engine's
/// kernels, as its training runs report their evaluations: `nalu eval --model` uses it for a
/// model the fused engine trained, so that it prints that run's figures to the last digit.
/// `model` must be a stack `config` describes; throws nalu::Error when
/// unsupported_reason(config) is not empty.
std::pair<double, double> evaluate(const RunConfig& config, StackImpl& model, const Batch& batch,
                                   double atol, double rtol);

/// The kernels the running CPU uses: "avx2+fma", "avx2+fma, avx512f uniform, log and weight
/// gradient" or "generic".
std::string instruction_set();

}  // namespace fused

}  // namespace nalu
