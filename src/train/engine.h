// One training loop for both engines of the static task. An engine owns the model in its own
// form (LibTorch modules and autograd, or the fused network's flat buffers) and does what
// differs between them: a step, an evaluation, its parameters and optimiser state. The loop
// (loop.cpp) does the rest, once: evaluation schedule, model selection, iNALU's
// re-initialisation, progress, checkpoints, rollbacks, stop requests and the formula readout.
// Internal to the library.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nalu/io/archive.h"
#include "nalu/regularizer.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/config.h"
#include "nalu/train/result.h"
#include "nalu/units/stack.h"

namespace nalu::detail {

// Streams of derive_seed(config.seed, stream) a static run uses (the task uses 1-3), the same
// for both engines, so that they start from the same weights and draw the same batches and
// re-initialisations.
inline constexpr uint64_t kInitializationStream = 10;
inline constexpr uint64_t kBatchStream = 11;
inline constexpr uint64_t kReinitializationStream = 12;

class Engine {
 public:
  virtual ~Engine() = default;
  /// "torch" or "fused", as records and checkpoints name it.
  virtual std::string name() const = 0;
  /// The LibTorch model: it reads formulas and sparsity, and iNALU re-initialises its layers.
  /// Its parameters are the engine's after sync_model().
  virtual StackImpl& model() = 0;
  /// Copies the engine's parameters into model() (nothing to do when they are the same).
  virtual void sync_model() = 0;
  /// The parameters as one flat vector (io::flat_parameters's layout).
  virtual std::vector<float> parameters() = 0;
  /// One optimiser step at `step` with the regulariser `schedules` of each layer; returns the
  /// batch's MSE without the regulariser. `poison` is asked once the parameters are updated;
  /// when it says so, the first parameter becomes NaN (fault injection). Throws NumericalError
  /// when the loss is not finite, before anything changes.
  virtual double step(int64_t step, const std::vector<RegularizerSchedule>& schedules,
                      const std::function<bool()>& poison) = 0;
  /// MSE and accuracy on the task's two fixed sets and the sparsity error, with model() synced.
  virtual Evaluation evaluate() = 0;
  /// After model()'s iNALU layers were drawn again: take their weights, restart the optimiser
  /// at `learning_rate`.
  virtual void reinitialized(double learning_rate) = 0;
  /// Adds the parameters and the optimiser's state to a checkpoint.
  virtual void store(io::Archive& state) = 0;
  /// Takes model()'s parameters (already restored) and the optimiser's state from `state`, and
  /// the learning rate from then on.
  virtual void restore(const io::Archive& state, double learning_rate) = 0;
};

/// Trains `engine` on `task` as `config` says, under `control`; the result of train_model and
/// fused::train.
TrainResult train_loop(Engine& engine, const ArithmeticTask& task, const RunConfig& config,
                       const ProgressCallback& on_progress, int64_t progress_interval,
                       const RunControl& control);

/// train_loop as a coroutine that can pause before each training step, so that one thread can
/// step several runs in turn (fused::train_together, whose runs share each batch). Nothing runs
/// until the first resume(); each resume() runs up to the next pause or to the end.
class LoopTask {
 public:
  struct promise_type {
    std::optional<TrainResult> result;
    std::exception_ptr error;
    int64_t next_step = 0;  // the step the loop pauses before

    LoopTask get_return_object() {
      return LoopTask(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(TrainResult value) { result = std::move(value); }
    void unhandled_exception() { error = std::current_exception(); }
  };

  LoopTask(LoopTask&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  LoopTask(const LoopTask&) = delete;
  LoopTask& operator=(const LoopTask&) = delete;
  LoopTask& operator=(LoopTask&&) = delete;
  ~LoopTask() {
    if (handle_)
      handle_.destroy();
  }

  /// Runs the loop to its next pause or to its end (then done() is true).
  void resume() { handle_.resume(); }
  bool done() const { return handle_.done(); }
  /// While paused: the step the loop runs next.
  int64_t next_step() const { return handle_.promise().next_step; }
  /// Once done: the result, or the exception the loop ended with, rethrown.
  TrainResult take() {
    auto& promise = handle_.promise();
    if (promise.error)
      std::rethrow_exception(promise.error);
    return std::move(*promise.result);
  }

 private:
  explicit LoopTask(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  std::coroutine_handle<promise_type> handle_;
};

/// The loop of train_loop; with `pausing` it pauses before every training step (LoopTask),
/// without it, it runs to the end in its first resume(). The references must outlive it.
LoopTask train_loop_steps(Engine& engine, const ArithmeticTask& task, const RunConfig& config,
                          const ProgressCallback& on_progress, int64_t progress_interval,
                          const RunControl& control, bool pausing);

}  // namespace nalu::detail
