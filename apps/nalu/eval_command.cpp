// `nalu eval`.
#include "eval_command.h"

#include <cstdio>

#include "format.h"
#include "formula_output.h"
#include "nalu/io/files.h"
#include "nalu/nalu.h"

namespace nalu::cli {

CLI::App* add_eval_command(CLI::App& app, EvalFlags& f) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a model saved by 'nalu train --save-model'");
  cmd->footer(
      "Examples:\n"
      "  nalu train --op mul --unit nmu --input-size 10 --save-model mul.nalu\n"
      "  nalu eval --model mul.nalu\n"
      "  nalu eval --model mul.nalu --extrapolation 10:100 --output eval.json");
  cmd->add_option("--model,-m", f.model, "Model file")->required();
  cmd->add_option("--interpolation", f.interpolation,
                  "Range of the interpolation set (default: the training run's)");
  cmd->add_option("--extrapolation", f.extrapolation,
                  "Range of the extrapolation set (default: the training run's)");
  cmd->add_option("--eval-size", f.eval_size, "Samples in each set (default: the run's)");
  cmd->add_option("--output,-o", f.output, "Write the results as JSON to this file");
  cmd->add_flag("--ascii", f.ascii_formula,
                "Print the formula in ASCII (Python/SymPy syntax) as well");
  cmd->add_flag("--literal-formula", f.literal_formula,
                "Print the formula before the simplifications checked on the evaluation sets");
  return cmd;
}

int run_eval_command(const EvalFlags& f) {
  if (!f.output.empty())
    check_writable(f.output);
  LoadedModel loaded = load_model(f.model);
  RunConfig config = loaded.config;
  if (f.interpolation)
    config.task_options.interpolation = Range::parse(*f.interpolation);
  if (f.extrapolation)
    config.task_options.extrapolation = Range::parse(*f.extrapolation);
  if (f.eval_size)
    config.task_options.evaluation_size = *f.eval_size;
  config.validate();
  const ArithmeticTask task = make_task(config);
  // The engine that trained the model evaluates it, so the figures are the run's own.
  const Evaluation e = evaluate_as_trained(config, *loaded.model, task);
  const Formula formula = readout(loaded.model->formula(), task);

  std::printf("model: %s (%s), task %s: x from %s, extrapolation %s\n", f.model.c_str(),
              loaded.model->unit_name().c_str(), task.describe().c_str(),
              config.task_options.interpolation.str().c_str(),
              config.task_options.extrapolation.str().c_str());
  std::printf("interpolation MSE %s, extrapolation MSE %s, sparsity error %s\n",
              short_number(e.interpolation_mse).c_str(), short_number(e.extrapolation_mse).c_str(),
              short_number(e.sparsity_error).c_str());
  print_formula(formula, "formula (", {f.ascii_formula, f.literal_formula});
  if (!f.output.empty()) {
    const nlohmann::json out = {{"nalu_version", kVersion},
                                {"kind", "eval"},
                                {"model", f.model},
                                {"config", config_to_json(config)},
                                {"evaluation", evaluation_to_json(e)},
                                {"formula", formula_to_json(formula)}};
    write_file_atomically(f.output, out.dump(2) + "\n");
  }
  return 0;
}

}  // namespace nalu::cli
