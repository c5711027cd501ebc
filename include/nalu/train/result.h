// What a training run reports: its evaluations, the best and final ones, the formulas read
// back, its schedule, timing and rollbacks, and the progress events it sends on the way. Both
// engines fill these; the success criterion (nalu/metrics/success.h) and the records read them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nalu/formula.h"
#include "nalu/regularizer.h"

namespace nalu {

struct Evaluation {
  int64_t step = 0;
  double train_loss = 0.0;  // MSE of the last training batch (without regulariser)
  double interpolation_mse = 0.0;
  double extrapolation_mse = 0.0;
  double interpolation_accuracy = 0.0;
  double extrapolation_accuracy = 0.0;
  double sparsity_error = 0.0;
};

/// A rollback after a non-finite value (RunControl::on_non_finite = kRollback).
struct Rollback {
  int64_t step = 0;            // where the non-finite value appeared
  std::string parameter;       // the first non-finite parameter, or "loss"
  int64_t restored_step = 0;   // the step of the state the run went back to
  double learning_rate = 0.0;  // the learning rate from then on
};

struct TrainResult {
  std::vector<Evaluation> history;
  Evaluation best;        // at the lowest interpolation MSE
  Evaluation final;       // after the last step
  Formula best_formula;   // readout() of the model at the best step
  Formula final_formula;  // readout() of the model after the last step
  int64_t iterations = 0;
  int64_t reinitializations = 0;
  std::vector<RegularizerSchedule> schedules;  // the regulariser schedule each layer used
  double wall_seconds = 0.0;
  double iterations_per_second = 0.0;
  int64_t runs_in_pass = 1;  // runs trained together (fused::train_together), sharing the wall time
  std::string engine;        // the engine that trained it: "fused" or "torch"
  int64_t resumed_from = 0;  // the checkpoint's step when resumed, else 0
  std::vector<Rollback> rollbacks;  // in order
};

struct ProgressEvent {
  int64_t step = 0;
  int64_t total = 0;
  double loss = 0.0;
  double elapsed_seconds = 0.0;
  const Evaluation* evaluation = nullptr;  // set when this event follows an evaluation
  bool reinitialized = false;              // an iNALU layer was re-initialised just now
};
using ProgressCallback = std::function<void(const ProgressEvent&)>;

}  // namespace nalu
