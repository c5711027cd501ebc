// Checkpoints, resumption, rollbacks and saved models (nalu/train/checkpoint.h), and the state
// both training loops share through detail::RunGuard.
#include "nalu/train/checkpoint.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "nalu/io/archive.h"
#include "nalu/io/files.h"
#include "nalu/io/module_archive.h"
#include "nalu/strings.h"
#include "nalu/train/fused.h"
#include "nalu/train/record.h"
#include "nalu/version.h"
#include "run_guard.h"
#include "run_tracker.h"
#include "torch_optim.h"

namespace nalu {

const std::vector<std::string>& non_finite_policy_names() {
  static const std::vector<std::string> kNames = {"stop", "rollback"};
  return kNames;
}

NonFinitePolicy parse_non_finite_policy(const std::string& name) {
  const auto index = find_name(non_finite_policy_names(), name, "non-finite policy");
  return index == 0 ? NonFinitePolicy::kStop : NonFinitePolicy::kRollback;
}

namespace {

constexpr int kEvaluationFields = 7;

void put_evaluation(std::vector<double>& out, const Evaluation& e) {
  out.insert(out.end(),
             {static_cast<double>(e.step), e.train_loss, e.interpolation_mse, e.extrapolation_mse,
              e.interpolation_accuracy, e.extrapolation_accuracy, e.sparsity_error});
}

// Row `row` of a saved history; `source` names the file in the error for a step that is not a
// whole number in [0, 2^53] (casting any other double to int64_t is undefined behaviour).
Evaluation get_evaluation(const std::vector<double>& values, size_t row,
                          const std::string& source) {
  const double* v = values.data() + row * kEvaluationFields;
  constexpr double kLargestExactStep = 9007199254740992.0;  // 2^53
  if (!(v[0] >= 0.0 && v[0] <= kLargestExactStep && v[0] == std::floor(v[0])))
    throw Error(source + ": damaged checkpoint (an evaluation step is not a whole number >= 0)");
  Evaluation e;
  e.step = static_cast<int64_t>(v[0]);
  e.train_loss = v[1];
  e.interpolation_mse = v[2];
  e.extrapolation_mse = v[3];
  e.interpolation_accuracy = v[4];
  e.extrapolation_accuracy = v[5];
  e.sparsity_error = v[6];
  return e;
}

// meta[key] as the given JSON type, or a one-line error naming the file.
const nlohmann::json& meta_field(const io::Archive& archive, const std::string& key,
                                 nlohmann::json::value_t type) {
  const auto it = archive.meta.find(key);
  const bool ok = it != archive.meta.end() &&
                  (it->type() == type ||
                   (type == nlohmann::json::value_t::number_integer && it->is_number_integer()));
  if (!ok)
    throw Error(archive.source + ": damaged checkpoint ('" + key + "' is missing or mistyped)");
  return *it;
}

// The first path where two configurations differ, for the mismatch message.
std::string first_difference(const nlohmann::json& saved, const nlohmann::json& current) {
  const auto patch = nlohmann::json::diff(saved, current);
  if (patch.empty() || !patch[0].contains("path"))
    return "?";
  std::string path = patch[0]["path"].get<std::string>();
  std::replace(path.begin(), path.end(), '/', '.');
  return path.empty() ? path : path.substr(1);
}

// Reads the optimiser-state tensors of parameter `index` named `field`, shaped as `like`.
torch::Tensor read_state_tensor(const io::Archive& state, size_t index, const char* field,
                                const torch::Tensor& like) {
  std::string name = "optimizer/";
  name += std::to_string(index);
  name += '/';
  name += field;
  const auto values = state.get(name).floats();
  check(static_cast<int64_t>(values.size()) == like.numel(),
        state.source + ": optimizer state '" + name + "' does not fit its parameter");
  return torch::from_blob(const_cast<float*>(values.data()), like.sizes(), torch::kFloat).clone();
}

void write_state_tensor(io::Archive& state, size_t index, const char* field,
                        const torch::Tensor& tensor) {
  std::string name = "optimizer/";
  name += std::to_string(index);
  name += '/';
  name += field;
  const auto flat = tensor.detach().to(torch::kFloat).contiguous();
  state.add(name,
            std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()));
}

}  // namespace

void RunControl::validate() const {
  check(checkpoint_interval >= 0, "checkpoint interval must be >= 0");
  check(rollback_factor > 0.0 && rollback_factor < 1.0,
        "rollback factor must lie in (0, 1), got " + std::to_string(rollback_factor));
  check(max_rollbacks >= 0, "max rollbacks must be >= 0");
  check(!resume || !checkpoint.empty(), "resume needs a checkpoint file");
  check(inject_non_finite_at >= 0, "inject_non_finite_at must be >= 0");
  if (!checkpoint.empty())
    check_writable(checkpoint);
  if (!save_model.empty())
    check_writable(save_model);
}

namespace detail {

RunGuard::RunGuard(const RunControl& control, const RunConfig& config, std::string engine)
    : control_(control),
      config_json_(config_to_json(config)),
      engine_(std::move(engine)),
      interval_(control.checkpoint_interval > 0 ? control.checkpoint_interval
                                                : config.training.eval_interval),
      evaluations_(static_cast<double>(config.training.iterations / config.training.eval_interval) +
                   2.0) {
  control.validate();
  if (!control.resume || !std::filesystem::exists(control.checkpoint))
    return;
  io::Archive state = io::read_archive(control.checkpoint, "checkpoint");
  const auto& saved_engine = meta_field(state, "engine", nlohmann::json::value_t::string);
  if (saved_engine != engine_) {
    throw Error(control.checkpoint + ": written by the " + saved_engine.get<std::string>() +
                " engine; this run uses " + engine_ + " (pass --engine " +
                saved_engine.get<std::string>() + ")");
  }
  // The engine asked for may differ ("auto" then, "fused" now): the engine used is checked
  // above.
  auto saved_config = meta_field(state, "config", nlohmann::json::value_t::object);
  auto current = config_json_;
  saved_config.erase("engine");
  current.erase("engine");
  if (saved_config != current) {
    throw Error(control.checkpoint + ": from a different run (config." +
                first_difference(saved_config, current) + " differs)");
  }
  resume_ = std::move(state);
}

void RunGuard::check_space(size_t parameters) const {
  // Upper bounds: a checkpoint holds the header, the generator (~5 KiB), parameters, best
  // parameters and two optimiser buffers, and 7 doubles per evaluation; an atomic write needs
  // room for the old and the new file side by side.
  const double floats = 4.0 * static_cast<double>(parameters);
  const double evaluations = evaluations_;
  if (!control_.checkpoint.empty()) {
    const double bytes = 2.0 * (16.0 * 1024 + 4.0 * floats + 7.0 * 8.0 * evaluations + 256.0 * 8);
    check_free_space(control_.checkpoint, bytes, "the checkpoint");
  }
  if (!control_.save_model.empty())
    check_free_space(control_.save_model, 2.0 * (4096.0 + floats), "the model");
}

io::Archive RunGuard::new_state(int64_t step) const {
  io::Archive state("checkpoint");
  state.meta["nalu_version"] = kVersion;
  state.meta["engine"] = engine_;
  state.meta["config"] = config_json_;
  state.meta["step"] = step;
  return state;
}

void RunGuard::save(io::Archive state) {
  if (!control_.checkpoint.empty())
    io::write_archive(control_.checkpoint, state);
  last_good_ = std::move(state);
}

void RunGuard::interrupt(int64_t step, io::Archive state) {
  std::string message = "interrupted after step ";
  message += std::to_string(step);
  if (control_.checkpoint.empty()) {
    message += " (no checkpoint file: the progress is lost)";
  } else {
    io::write_archive(control_.checkpoint, state);
    message += "; checkpoint written to ";
    message += control_.checkpoint;
  }
  throw Interrupted(step, control_.checkpoint, message);
}

bool RunGuard::inject(int64_t step) {
  if (injected_ || control_.inject_non_finite_at == 0 || step != control_.inject_non_finite_at)
    return false;
  injected_ = true;
  return true;
}

const io::Archive& RunGuard::rollback(const NumericalError& error, TrainResult& result,
                                      double& learning_rate) {
  if (control_.on_non_finite != NonFinitePolicy::kRollback || !last_good_ ||
      static_cast<int64_t>(result.rollbacks.size()) >= control_.max_rollbacks)
    throw error;
  learning_rate *= control_.rollback_factor;
  Rollback rollback;
  rollback.step = error.step();
  rollback.parameter = error.parameter();
  rollback.restored_step = last_good_->meta["step"].get<int64_t>();
  rollback.learning_rate = learning_rate;
  result.rollbacks.push_back(rollback);
  return *last_good_;
}

void store_progress(io::Archive& state, const TrainResult& result, const RunTracker& tracker,
                    double last_loss, double learning_rate, torch::Generator& generator,
                    const std::vector<float>& best_parameters) {
  std::vector<double> history;
  for (const auto& e : result.history)
    put_evaluation(history, e);
  state.add("history", history, {static_cast<int64_t>(result.history.size()), kEvaluationFields});
  std::vector<double> best;
  put_evaluation(best, result.best);
  state.add("best", best);
  const auto saved = tracker.saved();
  state.add("scalars", std::vector<double>{last_loss, learning_rate, saved.elapsed});
  state.meta["have_best"] = saved.have_best;
  state.meta["stagnation"] = saved.stagnation;
  state.meta["reinitializations"] = result.reinitializations;
  auto rollbacks = nlohmann::json::array();
  for (const auto& r : result.rollbacks) {
    rollbacks.push_back({{"step", r.step},
                         {"parameter", r.parameter},
                         {"restored_step", r.restored_step},
                         {"learning_rate", r.learning_rate}});
  }
  state.meta["rollbacks"] = rollbacks;
  const auto generator_state = generator.get_state().contiguous();
  state.add_bytes("generator",
                  std::string(reinterpret_cast<const char*>(generator_state.data_ptr<uint8_t>()),
                              static_cast<size_t>(generator_state.numel())));
  state.add("best_parameters", best_parameters);
}

int64_t restore_progress(const io::Archive& state, TrainResult& result, RunTracker& tracker,
                         double& last_loss, double& learning_rate, torch::Generator& generator,
                         std::vector<float>& best_parameters, StackImpl& model,
                         const std::vector<float>& parameters, bool rollback) {
  using value_t = nlohmann::json::value_t;
  const int64_t step = meta_field(state, "step", value_t::number_integer).get<int64_t>();
  const auto history = state.get("history").doubles();
  const auto best = state.get("best").doubles();
  const auto scalars = state.get("scalars").doubles();
  check(history.size() % kEvaluationFields == 0 && best.size() == kEvaluationFields &&
            scalars.size() == 3,
        state.source + ": damaged checkpoint (history, best or scalars has the wrong size)");
  result.history.clear();
  for (size_t row = 0; row < history.size() / kEvaluationFields; ++row)
    result.history.push_back(get_evaluation(history, row, state.source));
  result.best = get_evaluation(best, 0, state.source);
  // A run's rate only ever falls (rollbacks lower it), so a resumed run's saved rate lies in
  // (0, the configured rate] (`learning_rate` on entry); a larger one would also reach LibTorch's
  // optimisers, which throw std::runtime_error mid-run for a rate beyond a float's range.
  check(rollback || (scalars[1] > 0 && scalars[1] <= learning_rate),
        state.source + ": damaged checkpoint (its learning rate " + format_number(scalars[1]) +
            " is not in (0, " + format_number(learning_rate) + "], the configured rate)");
  last_loss = scalars[0];
  learning_rate = scalars[1];
  RunTracker::Saved saved;
  saved.have_best = meta_field(state, "have_best", value_t::boolean).get<bool>();
  saved.stagnation = meta_field(state, "stagnation", value_t::number_integer).get<int64_t>();
  saved.elapsed = scalars[2];
  result.reinitializations =
      meta_field(state, "reinitializations", value_t::number_integer).get<int64_t>();
  if (rollback) {
    // A rollback does not turn the clock back, and the rollbacks so far stay in the result.
    saved.elapsed = tracker.elapsed();
  } else {
    result.rollbacks.clear();
    for (const auto& r : meta_field(state, "rollbacks", value_t::array)) {
      if (!r.is_object() || !r.contains("step") || !r["step"].is_number_integer() ||
          !r.contains("parameter") || !r["parameter"].is_string() || !r.contains("restored_step") ||
          !r["restored_step"].is_number_integer() || !r.contains("learning_rate") ||
          !r["learning_rate"].is_number())
        throw Error(state.source + ": damaged checkpoint (a rollback entry is malformed)");
      result.rollbacks.push_back({r["step"].get<int64_t>(), r["parameter"].get<std::string>(),
                                  r["restored_step"].get<int64_t>(),
                                  r["learning_rate"].get<double>()});
    }
    result.resumed_from = step;
  }
  tracker.restore(saved);
  const auto& bytes = state.get("generator").bytes;
  auto generator_state = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(generator_state.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  try {
    generator.set_state(generator_state);
  } catch (const c10::Error&) {
    throw Error(state.source + ": damaged checkpoint (the generator state does not fit)");
  }
  best_parameters = state.get("best_parameters").floats();
  io::load_flat_parameters(model, best_parameters);
  result.best_formula = model.formula();
  io::load_flat_parameters(model, parameters);
  return step;
}

void store_optimizer(io::Archive& state, torch::optim::Optimizer& optimizer) {
  std::vector<int64_t> steps;
  size_t index = 0;
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) {
      const auto it = optimizer.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (it == optimizer.state().end()) {
        steps.push_back(-1);  // no state yet
      } else if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(it->second.get())) {
        steps.push_back(adam->step());
        write_state_tensor(state, index, "exp_avg", adam->exp_avg());
        write_state_tensor(state, index, "exp_avg_sq", adam->exp_avg_sq());
      } else if (auto* rms = dynamic_cast<torch::optim::RMSpropParamState*>(it->second.get())) {
        steps.push_back(rms->step());
        write_state_tensor(state, index, "square_avg", rms->square_avg());
        if (rms->momentum_buffer().defined())
          write_state_tensor(state, index, "momentum_buffer", rms->momentum_buffer());
      } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
        steps.push_back(0);
        write_state_tensor(state, index, "momentum_buffer", sgd->momentum_buffer());
      } else {
        throw Error("checkpoint: unsupported optimiser state");
      }
      ++index;
    }
  }
  state.add("optimizer/steps", steps);
}

void restore_optimizer(const io::Archive& state, torch::optim::Optimizer& optimizer) {
  const auto steps = state.get("optimizer/steps").int64s();
  const bool adam = dynamic_cast<torch::optim::Adam*>(&optimizer) != nullptr;
  const bool rms = dynamic_cast<torch::optim::RMSprop*>(&optimizer) != nullptr;
  auto& states = optimizer.state();
  states.clear();
  size_t index = 0;
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) {
      check(index < steps.size(), state.source + ": optimizer state for too few parameters");
      const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
      const int64_t step = steps[index];
      if (step >= 0) {
        if (adam) {
          auto s = std::make_unique<torch::optim::AdamParamState>();
          s->step(step);
          s->exp_avg(read_state_tensor(state, index, "exp_avg", p));
          s->exp_avg_sq(read_state_tensor(state, index, "exp_avg_sq", p));
          states[key] = std::move(s);
        } else if (rms) {
          auto s = std::make_unique<torch::optim::RMSpropParamState>();
          s->step(step);
          s->square_avg(read_state_tensor(state, index, "square_avg", p));
          std::string buffer = "optimizer/" + std::to_string(index) + "/momentum_buffer";
          if (state.has(buffer))
            s->momentum_buffer(read_state_tensor(state, index, "momentum_buffer", p));
          states[key] = std::move(s);
        } else {
          auto s = std::make_unique<torch::optim::SGDParamState>();
          s->momentum_buffer(read_state_tensor(state, index, "momentum_buffer", p));
          states[key] = std::move(s);
        }
      }
      ++index;
    }
  }
  check(index == steps.size(), state.source + ": optimizer state for too many parameters");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate) {
  for (auto& group : optimizer.param_groups())
    group.options().set_lr(learning_rate);
}

}  // namespace detail

TrainResult run(const RunConfig& config, const ProgressCallback& on_progress,
                const RunControl& control) {
  config.validate();
  if (resolve_engine(config) == "fused")
    return fused::train(config, on_progress, 100, control);
  const ArithmeticTask task = make_task(config);
  Stack model = make_model(config);
  return train_model(*model, task, config, on_progress, 100, control);
}

void save_model(const std::string& path, const RunConfig& config, const StackImpl& model) {
  io::Archive archive("model");
  archive.meta["nalu_version"] = kVersion;
  archive.meta["config"] = config_to_json(config);
  archive.meta["units"] = model.unit_name();
  io::add_parameters(archive, model);
  io::write_archive(path, archive);
}

LoadedModel load_model(const std::string& path) {
  const io::Archive archive = io::read_archive(path, "model");
  const auto config_json = archive.meta.find("config");
  if (config_json == archive.meta.end())
    throw Error(path + ": damaged model file (no configuration)");
  LoadedModel loaded;
  try {
    loaded.config = config_from_json(*config_json);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  loaded.model = make_model(loaded.config);
  io::load_parameters(archive, *loaded.model, path);
  return loaded;
}

}  // namespace nalu
