// The static training loop both engines share (engine.h).
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "engine.h"
#include "nalu/random.h"
#include "nalu/train/trainer.h"
#include "nalu/units/inalu.h"
#include "run_guard.h"
#include "run_tracker.h"
#include "torch_optim.h"

namespace nalu::detail {

namespace {

// Pauses the loop before a step when it runs among others (LoopTask).
struct StepGate {
  bool pausing;
  int64_t step;
  bool await_ready() const noexcept { return !pausing; }
  void await_suspend(std::coroutine_handle<LoopTask::promise_type> loop) const noexcept {
    loop.promise().next_step = step;
  }
  void await_resume() const noexcept {}
};

}  // namespace

TrainResult train_loop(Engine& engine, const ArithmeticTask& task, const RunConfig& config,
                       const ProgressCallback& on_progress, int64_t progress_interval,
                       const RunControl& control) {
  LoopTask loop =
      train_loop_steps(engine, task, config, on_progress, progress_interval, control, false);
  loop.resume();
  return loop.take();
}

LoopTask train_loop_steps(Engine& engine, const ArithmeticTask& task, const RunConfig& config,
                          const ProgressCallback& on_progress, int64_t progress_interval,
                          const RunControl& control, bool pausing) {
  RunGuard guard(control, config, engine.name());
  const auto& training = config.training;
  StackImpl& model = engine.model();
  auto reinit_generator = make_generator(derive_seed(config.seed, kReinitializationStream));
  const auto inalu_layers = reinitializable_layers(model);
  guard.check_space(engine.parameters().size());

  TrainResult result;
  result.engine = engine.name();
  result.schedules = layer_schedules(model, training);
  RunTracker tracker(result, training.iterations, on_progress, progress_interval);
  double last_loss = NAN;
  double learning_rate = config.optimizer.learning_rate;
  std::vector<float> best_parameters;

  auto run_evaluation = [&](int64_t step) {
    Evaluation e = engine.evaluate();
    e.step = step;
    e.train_loss = last_loss;
    if (tracker.add(e, [&] { return model.formula(); }))
      best_parameters = engine.parameters();
    bool reinitialized = false;
    if (should_reinitialize(inalu_layers.size(), tracker, result, training)) {
      // iNALU's remedy for a stuck run: draw the weights again and restart the optimiser.
      for (auto* layer : inalu_layers)
        layer->reinitialize(reinit_generator);
      engine.reinitialized(learning_rate);
      tracker.restart_stagnation();
      ++result.reinitializations;
      reinitialized = true;
    }
    tracker.report_evaluation(reinitialized);
  };
  // The run's whole state after `step`, and back.
  auto capture = [&](int64_t step) {
    io::Archive state = guard.new_state(step);
    engine.store(state);
    store_progress(state, result, tracker, last_loss, learning_rate, reinit_generator,
                   best_parameters);
    return state;
  };
  auto restore = [&](const io::Archive& state, bool rollback) {
    const double lowered = learning_rate;
    const int64_t step =
        restore_progress(state, result, tracker, last_loss, learning_rate, reinit_generator,
                         best_parameters, model, state.get("parameters").floats(), rollback);
    if (rollback)
      learning_rate = lowered;
    engine.restore(state, learning_rate);
    return step;
  };

  int64_t first_step = 1;
  if (const io::Archive* state = guard.resume_state()) {
    first_step = restore(*state, false) + 1;
  } else {
    run_evaluation(0);
    if (guard.keeps_states())
      guard.save(capture(0));
  }
  for (int64_t step = first_step; step <= training.iterations; ++step) {
    co_await StepGate{pausing, step};
    try {
      last_loss = engine.step(step, result.schedules, [&] { return guard.inject(step); });
      if (step % training.eval_interval == 0 || step == training.iterations)
        run_evaluation(step);
      else
        tracker.report_step(step, last_loss);
      // A parameter may have become non-finite in the very last step.
      if (step == training.iterations) {
        engine.sync_model();
        check_parameters_finite(model, step);
      }
    } catch (const NumericalError& error) {
      step = restore(guard.rollback(error, result, learning_rate), true);
      continue;
    }
    if (guard.keeps_states() && guard.due(step))
      guard.save(capture(step));
    if (guard.stop_requested())
      guard.interrupt(step, capture(step));
  }

  engine.sync_model();
  // The literal formulas are read from the LibTorch model; the simplification checks them on
  // the task's two sets.
  result.best_formula = readout(result.best_formula, task);
  result.final_formula = readout(model.formula(), task);
  tracker.finish(training.iterations);
  if (!control.save_model.empty())
    save_model(control.save_model, config, model);
  co_return result;
}

}  // namespace nalu::detail
