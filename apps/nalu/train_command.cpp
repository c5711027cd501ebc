// `nalu train` (train_command.h).
#include "train_command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "format.h"
#include "formula_output.h"
#include "interrupt.h"
#include "nalu/io/files.h"
#include "nalu/nalu.h"
#include "progress.h"

namespace nalu::cli {

namespace {

using nalu::RunConfig;

std::string fmt(double value) {
  return nalu::cli::short_number(value);
}

RunConfig build_config(const TrainFlags& f) {
  RunConfig config = nalu::task_preset(f.task);
  auto& t = config.task_options;
  if (f.op)
    t.op = nalu::parse_operation(*f.op);
  if (f.input_size)
    t.input_size = *f.input_size;
  if (f.subset_ratio)
    t.subset_ratio = *f.subset_ratio;
  if (f.overlap_ratio)
    t.overlap_ratio = *f.overlap_ratio;
  if (f.interpolation)
    t.interpolation = nalu::Range::parse(*f.interpolation);
  if (f.extrapolation)
    t.extrapolation = nalu::Range::parse(*f.extrapolation);
  if (f.eval_size)
    t.evaluation_size = *f.eval_size;

  auto& m = config.model;
  if (f.units)
    m.units = nalu::split(*f.units, ',');
  if (f.hidden) {
    m.hidden.clear();
    for (const auto& part : nalu::split(*f.hidden, ',')) {
      try {
        size_t used = 0;
        m.hidden.push_back(std::stoll(part, &used));
        if (used != part.size())
          throw std::invalid_argument(part);
      } catch (const std::out_of_range&) {
        throw nalu::Error("--hidden: " + part + " is outside the range of a 64-bit integer");
      } catch (const std::logic_error&) {
        throw nalu::Error("--hidden: '" + part + "' is not a whole number");
      }
    }
  }
  if (f.layers) {
    nalu::check(*f.layers > 0 && *f.layers <= nalu::kMaxLayers,
                "--layers must be in [1, " + std::to_string(nalu::kMaxLayers) + "], got " +
                    std::to_string(*f.layers));
    const int64_t size = m.hidden.empty() ? 2 : m.hidden.front();
    m.hidden.assign(static_cast<size_t>(*f.layers - 1), size);
  } else if (f.units && m.units.size() > 1 && !f.hidden) {
    // "--unit nau,nmu": as many layers as names, hidden size as in the preset.
    const int64_t size = m.hidden.empty() ? 2 : m.hidden.front();
    m.hidden.assign(m.units.size() - 1, size);
  }
  if (f.init)
    m.settings.init = nalu::parse_init(*f.init);
  if (f.epsilon)
    m.settings.epsilon = *f.epsilon;
  if (f.activation)
    m.settings.mlp_activation = *f.activation;
  if (f.nalu_separate_weights)
    m.settings.nalu_shared_weights = false;
  if (f.nalu_gate_bias)
    m.settings.nalu_gate_bias = true;
  if (f.npu_improved)
    m.settings.npu_improved = true;
  if (f.no_bias)
    m.settings.linear_bias = false;
  if (f.linear_init) {
    if (*f.linear_init == "torch")
      m.settings.linear_init = nalu::LinearInit::kTorch;
    else if (*f.linear_init == "reference")
      m.settings.linear_init = nalu::LinearInit::kReference;
    else
      throw nalu::Error("unknown linear init '" + *f.linear_init + "' (known: torch, reference)");
  }

  if (f.optimizer)
    config.optimizer.name = *f.optimizer;
  if (f.learning_rate)
    config.optimizer.learning_rate = *f.learning_rate;
  if (f.momentum)
    config.optimizer.momentum = *f.momentum;
  if (f.clip_grad_norm)
    config.optimizer.clip_grad_norm = *f.clip_grad_norm;

  auto& tr = config.training;
  if (f.iterations)
    tr.iterations = *f.iterations;
  if (f.batch_size)
    tr.batch_size = *f.batch_size;
  if (f.eval_interval)
    tr.eval_interval = *f.eval_interval;
  if (f.reg_scale || f.reg_start || f.reg_end) {
    nalu::RegularizerSchedule schedule{1.0, 0, 0};
    schedule.scale = f.reg_scale.value_or(1.0);
    schedule.start = f.reg_start.value_or(0);
    schedule.end = f.reg_end.value_or(schedule.start);
    tr.regularizer = schedule;
  }
  config.seed = f.seed;
  config.engine = f.engine;
  config.validate();
  nalu::resolve_engine(config);  // "--engine fused" on a model it cannot train fails here
  // Build the task once now so that its own checks (subsets, ranges) fail before training.
  nalu::make_task(config);
  return config;
}

}  // namespace

void add_train_command(CLI::App& app, TrainFlags& f) {
  auto* cmd = app.add_subcommand("train", "Train one model on an arithmetic task");
  std::vector<std::string> partnered;
  for (const auto& unit : nalu::unit_catalog()) {
    if (!unit.partner.empty())
      partnered.push_back(unit.name + " after " + unit.partner);
  }
  cmd->footer(
      "Examples:\n"
      "  nalu train --op mul --unit nmu --iterations 200000 --seed 1 --output run.json\n"
      "  nalu train --op add --unit nau --input-size 10 --iterations 5000\n"
      "  nalu train --task seed-sum --iterations 20000\n"
      "  nalu train --op sub --unit mlp --activation relu6 --extrapolation=-6:-2,2:6\n"
      "A unit named alone that has an additive partner gets it as first layer (" +
      nalu::join(partnered, ", ") +
      ");\n--unit nau,nmu names every layer. `nalu units` lists each unit's settings.\n"
      "Ranges starting with a minus sign need '=': --interpolation=-2:-1.");
  cmd->add_option("--task", f.task, "Task: static, seed-sum, seed-mul")->capture_default_str();
  cmd->add_option("--op", f.op, "Operation: add, sub, mul, div, square, sqrt [add]");
  cmd->add_option("--unit", f.units,
                  "Unit per layer, comma separated, or one for all layers [nalu]: " +
                      nalu::join(nalu::unit_names(), ", "));
  cmd->add_option("--input-size", f.input_size, "Size of the input vector x [100]");
  cmd->add_option("--hidden", f.hidden, "Hidden layer sizes, comma separated [2]");
  cmd->add_option("--layers", f.layers,
                  "Number of layers; hidden layers take the first hidden size");
  cmd->add_option("--subset-ratio", f.subset_ratio, "Share of x summed into a and into b [0.25]");
  cmd->add_option("--overlap-ratio", f.overlap_ratio, "Share of a subset shared by a and b [0.5]");
  cmd->add_option("--interpolation", f.interpolation, "Training range LOW:HIGH[,LOW:HIGH] [1:2]");
  cmd->add_option("--extrapolation", f.extrapolation, "Extrapolation range [2:6]");
  cmd->add_option("--eval-size", f.eval_size, "Samples in each evaluation set [10000]");
  cmd->add_option("--optimizer", f.optimizer, "adam, rmsprop or sgd [adam]");
  cmd->add_option("--lr,--learning-rate", f.learning_rate, "Learning rate [1e-3]");
  cmd->add_option("--momentum", f.momentum, "Momentum for rmsprop and sgd [0]");
  cmd->add_option("--clip-grad-norm", f.clip_grad_norm,
                  "Scale the gradient down to this L2 norm before each step, as the NMRU's "
                  "authors do with 1 [0: off]");
  cmd->add_option("--batch-size", f.batch_size, "Batch size [128]");
  cmd->add_option("--iterations", f.iterations, "Optimisation steps [100000]");
  cmd->add_option("--eval-interval", f.eval_interval, "Steps between evaluations [1000]");
  cmd->add_option("--reg-scale", f.reg_scale,
                  "Regulariser lambda for every layer (default: each unit's own schedule)");
  cmd->add_option("--reg-start", f.reg_start, "Step at which the regulariser starts to ramp up");
  cmd->add_option("--reg-end", f.reg_end, "Step at which it reaches --reg-scale");
  cmd->add_option("--init", f.init,
                  "NAC/NALU initialisation: xavier, truncated-normal or reference (the NAU paper's "
                  "NAC start) [xavier]");
  cmd->add_option("--epsilon", f.epsilon, "Epsilon of the log-space units [1e-7]");
  cmd->add_flag("--nalu-separate-weights", f.nalu_separate_weights,
                "NALU: separate weights for the multiplicative path");
  cmd->add_flag("--nalu-gate-bias", f.nalu_gate_bias, "NALU: give the gate a bias");
  cmd->add_flag("--npu-improved", f.npu_improved,
                "real-npu: the improved Real NPU (Mistry, Hare & Farrahi: W_re starts within "
                "+-0.5 and is clamped to [-1, 1], regulariser towards exponents +-1 and gates 0 "
                "or 1)");
  cmd->add_flag("--no-bias", f.no_bias, "linear/mlp: no bias");
  cmd->add_option("--linear-init", f.linear_init,
                  "linear: torch (torch::nn::Linear's start) or reference (Xavier-uniform "
                  "weight, zero bias: the NAU paper's Linear baseline) [torch]");
  cmd->add_option("--activation", f.activation, "MLP activation [relu6]");
  cmd->add_option("--seed", f.seed, "Seed of the dataset, initialisation and batches")
      ->capture_default_str();
  cmd->add_option("--engine", f.engine,
                  "auto, fused or torch; auto uses the fused engine wherever it applies")
      ->capture_default_str();
  cmd->add_option("--output,-o", f.output, "Write the run's JSON record to this file");
  cmd->add_option("--progress", f.progress, "auto, bar, lines or none")->capture_default_str();
  cmd->add_flag("--quiet,-q", f.quiet, "Print only the formula and errors; no progress");
  cmd->add_flag("--ascii", f.ascii_formula,
                "Print the formula in ASCII (Python/SymPy syntax) as well");
  cmd->add_flag("--literal-formula", f.literal_formula,
                "Print the formula before the simplifications checked on the evaluation sets");
  cmd->add_option("--checkpoint", f.checkpoint,
                  "Checkpoint file, written every --checkpoint-every steps and on Ctrl-C / "
                  "SIGTERM, atomically");
  cmd->add_option("--checkpoint-every", f.checkpoint_every,
                  "Steps between checkpoints [the evaluation interval]");
  cmd->add_flag("--resume", f.resume,
                "Continue from --checkpoint when it exists (same settings required)");
  cmd->add_option("--on-nan", f.on_nan,
                  "stop: fail naming the step and parameter; rollback: return to the last good "
                  "state with half the learning rate (at most 5 times)")
      ->check(CLI::IsMember(nalu::non_finite_policy_names()))
      ->capture_default_str();
  cmd->add_option("--save-model", f.save_model,
                  "Write the trained model here (read it back with 'nalu eval --model')");
  // Fault injection for the test suite: a parameter becomes NaN after this step.
  cmd->add_option("--inject-nan", f.inject_nan)->group("");
}

namespace {

nalu::RunControl build_control(const TrainFlags& f) {
  nalu::RunControl control;
  control.checkpoint = f.checkpoint;
  control.checkpoint_interval = f.checkpoint_every;
  control.resume = f.resume;
  control.on_non_finite = nalu::parse_non_finite_policy(f.on_nan);
  control.save_model = f.save_model;
  control.inject_non_finite_at = f.inject_nan;
  control.stop = &nalu::cli::install_stop_handlers();
  control.validate();
  return control;
}

}  // namespace

int run_train_command(const TrainFlags& flags) {
  const RunConfig config = build_config(flags);
  if (!flags.output.empty()) {
    nalu::check_writable(flags.output);
    nalu::check_free_space(flags.output, nalu::record_bytes_estimate(config.training),
                           "the record");
  }
  const nalu::RunControl control = build_control(flags);
  const nalu::ArithmeticTask task = nalu::make_task(config);
  const std::string engine = nalu::resolve_engine(config);

  const auto sizes = config.sizes();
  std::vector<std::string> size_names;
  for (auto s : sizes)
    size_names.push_back(std::to_string(s));
  const std::string size_text = nalu::join(size_names, "-");
  const std::string layer_text = nalu::join(config.resolve_layers(), ",");
  if (!flags.quiet) {
    std::printf("task:  %s: %s; x from %s, extrapolation %s\n", config.task.c_str(),
                task.describe().c_str(), config.task_options.interpolation.str().c_str(),
                config.task_options.extrapolation.str().c_str());
    std::printf("model: %s, sizes %s; %s lr %g; %lld iterations, batch %lld; seed %llu\n",
                layer_text.c_str(), size_text.c_str(), config.optimizer.name.c_str(),
                config.optimizer.learning_rate, static_cast<long long>(config.training.iterations),
                static_cast<long long>(config.training.batch_size),
                static_cast<unsigned long long>(config.seed));
    std::printf("engine: %s\n",
                engine == "fused"
                    ? ("fused (" + nalu::fused::instruction_set() + " kernels)").c_str()
                    : "torch (LibTorch autograd)");
    std::fflush(stdout);
  }

  nalu::cli::ProgressPrinter progress(flags.quiet ? nalu::cli::ProgressMode::kNone
                                                  : nalu::cli::parse_progress_mode(flags.progress));
  nalu::TrainResult result;
  try {
    result = nalu::run(
        config, [&](const nalu::ProgressEvent& event) { progress(event); }, control);
  } catch (const nalu::Interrupted&) {
    progress.finish();
    throw;
  } catch (const nalu::NumericalError& error) {
    progress.finish();
    if (!flags.output.empty()) {
      nalu::write_file_atomically(
          flags.output, nalu::make_failure_record(config, "diverged", error.what()).dump(2) + "\n");
    }
    throw;
  }
  progress.finish();

  const auto& best = result.best;
  const auto& last = result.final;
  std::printf("best  (step %lld): interpolation MSE %s, extrapolation MSE %s, sparsity error %s\n",
              static_cast<long long>(best.step), fmt(best.interpolation_mse).c_str(),
              fmt(best.extrapolation_mse).c_str(), fmt(best.sparsity_error).c_str());
  std::printf("final (step %lld): interpolation MSE %s, extrapolation MSE %s\n",
              static_cast<long long>(last.step), fmt(last.interpolation_mse).c_str(),
              fmt(last.extrapolation_mse).c_str());
  nalu::cli::print_formula(result.best_formula, "formula (at best step, ",
                           {flags.ascii_formula, flags.literal_formula});
  std::printf("time:  %.1f s, %.0f iterations/s (%s engine)\n", result.wall_seconds,
              result.iterations_per_second, result.engine.c_str());
  if (result.resumed_from > 0)
    std::printf("resumed from the checkpoint at step %lld\n",
                static_cast<long long>(result.resumed_from));
  for (const auto& r : result.rollbacks) {
    std::printf("rollback: non-finite %s at step %lld; back to step %lld, learning rate %g\n",
                r.parameter.c_str(), static_cast<long long>(r.step),
                static_cast<long long>(r.restored_step), r.learning_rate);
  }
  if (!flags.save_model.empty())
    std::printf("model: %s\n", flags.save_model.c_str());
  if (!flags.output.empty()) {
    nalu::write_file_atomically(flags.output, nalu::make_record(config, result).dump(2) + "\n");
    std::printf("record: %s\n", flags.output.c_str());
  }
  return 0;
}

}  // namespace nalu::cli
