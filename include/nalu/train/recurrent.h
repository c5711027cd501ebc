// Training on the recurrent arithmetic task (NALU paper): one sequence model - a NAC / NALU /
// any-unit recurrent cell, or an LSTM / GRU / RNN baseline, then a head - trained with MSE on
// sequences of the training length and evaluated on the fixed interpolation and extrapolation
// sets. Results use the static trainer's types (Evaluation, TrainResult, ProgressEvent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nalu/tasks/recurrent.h"
#include "nalu/train/config.h"
#include "nalu/train/trainer.h"
#include "nalu/units/recurrent.h"

namespace nalu {

/// One recurrent run, reproducible from this struct alone. Defaults are our choice (the paper
/// gives none for this task): hidden size 2, Adam lr 0.01, batch 64, 5,000 steps.
struct RecurrentConfig {
  RecurrentTaskOptions task;  // its seed is replaced by `seed`
  std::string core = "nac";   // a registry unit, or lstm, gru, rnn-relu, rnn-tanh
  std::string head_unit;      // empty: the core's unit, or a Linear for a baseline core
  int64_t hidden_size = 2;
  UnitSettings settings;
  OptimizerConfig optimizer{"adam", 1e-2, 0.0};
  int64_t iterations = 5'000;
  int64_t batch_size = 64;
  int64_t eval_interval = 250;
  /// Replaces every unit's own schedule when set; otherwise each unit uses its
  /// default_regularizer() stretched to this run's length (scaled_to_run).
  std::optional<RegularizerSchedule> regularizer;
  uint64_t seed = 0;  // drives the dataset, the initialisation and the batches

  /// Throws nalu::Error with a one-line message for invalid settings, and for settings whose
  /// memory_needs() exceed machine_memory_bytes().
  void validate() const;
  /// What the model, one training step and the evaluation sets would allocate (estimates).
  std::vector<MemoryNeed> memory_needs() const;
  /// The model options this config describes.
  RecurrentArithmeticModelOptions model_options() const;
};

/// The task of `config`, seeded with config.seed.
RecurrentArithmeticTask make_recurrent_task(const RecurrentConfig& config);
/// The untrained model of `config`, initialised from config.seed; safe to call from several
/// threads (built under the same global-generator lock as make_model).
RecurrentArithmeticModel make_recurrent_model(const RecurrentConfig& config);

/// Trains `model` on `task`. Evaluation at step 0 (the initial model), every eval_interval steps
/// and at the end; `best` is the evaluation with the lowest interpolation MSE. Throws
/// NumericalError naming the step and parameter when training stops being finite.
TrainResult train_recurrent_model(RecurrentArithmeticModelImpl& model,
                                  const RecurrentArithmeticTask& task,
                                  const RecurrentConfig& config,
                                  const ProgressCallback& on_progress = {},
                                  int64_t progress_interval = 100);

/// Validates `config`, builds its task and model, and trains.
///
/// Example:
/// ```
/// nalu::RecurrentConfig config;
/// config.core = "nac";
/// nalu::TrainResult result = nalu::train_recurrent(config);
/// double error = result.best.extrapolation_mse;
/// ```
TrainResult train_recurrent(const RecurrentConfig& config,
                            const ProgressCallback& on_progress = {});

}  // namespace nalu
