// Learning an arithmetic formula from a table (fit.h).
#include "nalu/sweep/fit.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "formula_detail.h"
#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/sweep/bench.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/fused.h"
#include "nalu/train/record.h"
#include "nalu/train/trainer.h"
#include "nalu/version.h"
#include "parallel.h"

namespace nalu {

namespace {

// The table's examples in double precision, as the formulas are checked on them.
struct Examples {
  int64_t columns = 0;
  std::vector<double> inputs;   // rows x columns
  std::vector<double> targets;  // rows
  double scale = 1.0;           // rms of the targets (1 when they are all 0)
};

// A formula's relative RMS error on `rows` and whether it fits each of them.
struct FormulaCheck {
  double error = 0.0;
  bool fits = true;
};

FormulaCheck check_formula(const Formula& formula, const Examples& examples,
                           const std::vector<int64_t>& rows, double rtol) {
  FormulaCheck out;
  double squared = 0.0;
  for (const int64_t row : rows) {
    const auto at = static_cast<size_t>(row * examples.columns);
    const std::span<const double> x(examples.inputs.data() + at,
                                    static_cast<size_t>(examples.columns));
    const double y = examples.targets[static_cast<size_t>(row)];
    const double value = evaluate(formula, x).front();
    const double difference = std::isfinite(value) ? value - y : INFINITY;
    squared += difference * difference;
    if (!(std::abs(difference) <= rtol * (std::abs(y) + examples.scale)))
      out.fits = false;
  }
  out.error =
      rows.empty() ? 0.0 : std::sqrt(squared / static_cast<double>(rows.size())) / examples.scale;
  return out;
}

double relative_error(double mse, double scale) {
  return std::isnan(mse) ? INFINITY : std::sqrt(mse) / scale;
}

// Lower is better; NaN (a diverged run) is worst.
double ordered(double value) {
  return std::isnan(value) ? INFINITY : value;
}

void validate(const FitOptions& o) {
  check(!o.units.empty(), "fit: no unit spec given");
  for (const auto& spec : o.units) {
    check(!spec.empty(), "fit: empty unit spec");
    check(spec.find('|') == std::string::npos,
          "fit: unit spec '" + spec +
              "': fit chooses among its unit specs itself; list them with commas");
  }
  check(o.seeds > 0, "fit: seeds must be positive, got " + std::to_string(o.seeds));
  check(o.hidden > 0, "fit: the hidden size must be positive, got " + std::to_string(o.hidden));
  check(o.jobs >= 0, "fit: jobs must be >= 0 (0: one per core), got " + std::to_string(o.jobs));
  check(o.rtol > 0 && std::isfinite(o.rtol),
        "fit: the tolerance must be positive, got " + format_number(o.rtol));
  check(o.approximate > 0 && std::isfinite(o.approximate),
        "fit: the approximate bound must be positive, got " + format_number(o.approximate));
}

// An expression per input that prints as `names[i]`.
std::vector<ExprPtr> named_inputs(const std::vector<std::string>& names) {
  std::vector<ExprPtr> out;
  for (const auto& name : names)
    out.push_back(opaque_expr(name));
  return out;
}

// `expr` rewritten where that is exact algebra, for reading: a factor whose terms are all
// negated is negated back, (−a − b)^w = (−1)^w (a + b)^w for whole w, so that pairs of signs
// cancel; sums of one term with coefficient 1 and products of one factor with exponent 1 become
// that term, so that repeated factors merge (a · a = a²); a product with a factor 0 is 0.
ExprPtr tidy(const ExprPtr& expr) {
  auto single = [](const ExprPtr& e) {
    return (e->kind == Expr::Kind::kSum || e->kind == Expr::Kind::kProduct) &&
                   e->terms.size() == 1 && e->terms[0].first == 1.0
               ? e->terms[0].second
               : e;
  };
  if (expr->kind == Expr::Kind::kSum) {
    std::vector<std::pair<double, ExprPtr>> terms;
    for (const auto& [coefficient, term] : expr->terms)
      terms.emplace_back(coefficient, tidy(term));
    return single(sum_expr(std::move(terms)));
  }
  if (expr->kind != Expr::Kind::kProduct)
    return expr;
  double sign = 1.0;
  std::vector<std::pair<double, ExprPtr>> factors;
  for (const auto& [exponent, factor] : expr->terms) {
    ExprPtr tidied = tidy(factor);
    const bool negated = tidied->kind == Expr::Kind::kSum && !tidied->terms.empty() &&
                         std::all_of(tidied->terms.begin(), tidied->terms.end(),
                                     [](const auto& term) { return term.first < 0; });
    if (negated && detail::is_integer(exponent)) {
      std::vector<std::pair<double, ExprPtr>> flipped;
      for (const auto& [coefficient, term] : tidied->terms)
        flipped.emplace_back(-coefficient, term);
      tidied = single(sum_expr(std::move(flipped)));
      if (std::fmod(std::abs(exponent), 2.0) == 1.0)
        sign = -sign;
    }
    const bool zero = tidied->kind == Expr::Kind::kSum && tidied->terms.empty();
    if (zero && exponent > 0)
      return sum_expr({});  // a · 0 = 0
    factors.emplace_back(exponent, tidied);
  }
  ExprPtr product = single(product_expr(std::move(factors)));
  return sign < 0 ? single(sum_expr({{-1.0, product}})) : product;
}

// `formula`'s lines, tidied, with the inputs called `names` and the output `target`.
std::vector<std::string> named_lines(const Formula& formula, const std::vector<std::string>& names,
                                     const std::string& target, bool ascii) {
  Formula named = formula;
  for (auto& layer : named.hidden) {
    for (auto& expr : layer)
      expr = tidy(expr);
  }
  for (auto& expr : named.outputs)
    expr = tidy(expr);
  auto& first = named.hidden.empty() ? named.outputs : named.hidden.front();
  const auto inputs = named_inputs(names);
  for (auto& expr : first)
    expr = substitute(expr, inputs);
  // The output's name is a marker that no formula prints, replaced by the target's name.
  const std::string marker = "\x01";
  auto lines = ascii ? named.ascii_lines("x", marker) : named.lines("x", marker);
  for (auto& line : lines) {
    if (line.rfind(marker + "0 = ", 0) == 0)
      line = target + line.substr(marker.size() + 1);
  }
  return lines;
}

bool is_hidden_name(const std::string& name) {
  // h0, h1_2, ...: the names hidden units print with.
  if (name.size() < 2 || name[0] != 'h')
    return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Python names for `columns`, made unique (a second "a_b" becomes "a_b_2") and kept clear of the
// hidden units' names.
std::vector<std::string> python_names(const std::vector<std::string>& columns) {
  std::vector<std::string> out;
  std::set<std::string> used;
  for (const auto& column : columns) {
    std::string name = python_name(column);
    if (is_hidden_name(name))
      name += '_';
    std::string unique = name;
    for (int n = 2; used.count(unique) != 0; ++n)
      unique = name + "_" + std::to_string(n);
    used.insert(unique);
    out.push_back(unique);
  }
  return out;
}

nlohmann::json run_to_json(const FitRun& run) {
  nlohmann::json out = {
      {"unit", run.unit},
      {"seed", run.seed},
      {"status", run.status},
      {"engine", run.engine},
      {"wall_seconds", run.wall_seconds},
      {"validation_mse", json_number(run.validation_mse)},
      {"holdout_mse", json_number(run.holdout_mse)},
      {"validation_error", json_number(run.validation_error)},
      {"holdout_error", json_number(run.holdout_error)},
  };
  if (run.status == "ok") {
    out["formula"] = run.formula.lines();
    out["formula_in_range_error"] = json_number(run.formula_in_range_error);
    out["formula_holdout_error"] = json_number(run.formula_holdout_error);
    out["formula_fits_in_range"] = run.formula_fits_in_range;
    out["formula_fits_holdout"] = run.formula_fits_holdout;
  } else {
    out["error"] = run.error;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& default_fit_units() {
  static const std::vector<std::string> kUnits = {
      "nau", "nmu", "nau,nmu", "nmu,nau", "nau,nmu,nau", "real-npu:improved", "nmru"};
  return kUnits;
}

std::string verdict_text(FitVerdict verdict) {
  switch (verdict) {
    case FitVerdict::kExact:
      return "exact";
    case FitVerdict::kApproximate:
      return "approximate";
    case FitVerdict::kNone:
      break;
  }
  return "no arithmetic formula found";
}

std::string verdict_name(FitVerdict verdict) {
  return verdict == FitVerdict::kNone ? "none" : verdict_text(verdict);
}

std::string python_name(const std::string& column) {
  std::string name;
  for (const char c : column) {
    const bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (word)
      name += c;
    else if (!name.empty() && name.back() != '_')
      name += '_';
  }
  while (!name.empty() && name.back() == '_' && column.back() != '_')
    name.pop_back();
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())))
    name = "_" + name;
  // Names `from sympy import *` would shadow, and Python's keywords.
  static const std::set<std::string> kTaken = {
      "E",     "I",    "N",      "O",     "Q",         "S",    "abs",   "cos",    "exp",
      "pi",    "sign", "Min",    "Max",   "Heaviside", "sin",  "log",   "sqrt",   "beta",
      "gamma", "zeta", "lambda", "and",   "or",        "not",  "if",    "else",   "for",
      "in",    "is",   "def",    "class", "return",    "None", "True",  "False",  "import",
      "from",  "as",   "with",   "while", "del",       "pass", "yield", "global", "try"};
  if (kTaken.count(name) != 0)
    name += '_';
  return name;
}

std::vector<std::string> FitResult::lines() const {
  return named_lines(chosen().formula, inputs, target, false);
}

std::vector<std::string> FitResult::ascii_lines() const {
  std::vector<std::string> columns = inputs;
  columns.push_back(target);
  const auto names = python_names(columns);
  return named_lines(chosen().formula, {names.begin(), names.end() - 1}, names.back(), true);
}

FitResult fit_table(const io::Table& table, const std::string& target,
                    const std::vector<std::string>& inputs, const FitOptions& options,
                    const std::function<void(const FitRun&, int64_t, int64_t)>& on_run) {
  validate(options);
  const int64_t target_column = table.column(target);
  std::vector<int64_t> input_columns;
  FitResult result;
  result.target = target;
  if (inputs.empty()) {
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (static_cast<int64_t>(c) != target_column)
        input_columns.push_back(static_cast<int64_t>(c));
    }
    check(!input_columns.empty(),
          "fit: the table has only the target column '" + target + "'; it needs inputs too");
  } else {
    std::set<std::string> seen;
    for (const auto& name : inputs) {
      check(name != target, "fit: '" + target + "' is the target; it cannot be an input too");
      check(seen.insert(name).second, "fit: input column '" + name + "' is named twice");
      input_columns.push_back(table.column(name));
    }
  }
  for (const auto c : input_columns)
    result.inputs.push_back(table.columns[static_cast<size_t>(c)]);

  Examples examples;
  examples.columns = static_cast<int64_t>(input_columns.size());
  result.rows = table.rows();
  // Training is in single precision: a value it cannot hold is refused, named.
  auto value = [&](int64_t r, int64_t c) {
    const double v = table.at(r, c);
    check(std::abs(v) <= std::numeric_limits<float>::max(),
          "fit: row " + std::to_string(r + 1) + ", column '" +
              table.columns[static_cast<size_t>(c)] + "': " + format_number(v) +
              " is beyond single precision (3.4e38), which training uses");
    return v;
  };
  double squared = 0.0;
  for (int64_t r = 0; r < table.rows(); ++r) {
    for (const auto c : input_columns)
      examples.inputs.push_back(value(r, c));
    examples.targets.push_back(value(r, target_column));
    squared += examples.targets.back() * examples.targets.back();
  }
  const double rms = std::sqrt(squared / static_cast<double>(std::max<int64_t>(1, result.rows)));
  examples.scale = rms > 0 ? rms : 1.0;
  auto data = std::make_shared<const TableData>(
      split_table(examples.inputs, examples.targets, examples.columns, options.split));
  result.data = data;
  std::vector<int64_t> in_range = data->training_rows;
  in_range.insert(in_range.end(), data->validation_rows.begin(), data->validation_rows.end());

  RunConfig base;
  base.task = "table";
  base.task_options.input_size = examples.columns;
  base.task_options.table = data;
  base.task_options.evaluation_size =
      static_cast<int64_t>(std::max(data->validation_rows.size(), data->holdout_rows.size()));
  base.model.hidden = {};
  base.training.iterations = options.iterations;
  base.training.batch_size = options.batch_size;
  base.training.eval_interval = std::min<int64_t>(1'000, std::max<int64_t>(1, options.iterations));
  base.optimizer.learning_rate = options.learning_rate;
  base.engine = options.engine;

  for (const auto& spec : options.units) {
    for (int64_t s = 0; s < options.seeds; ++s) {
      FitRun run;
      run.unit = spec;
      run.seed = options.first_seed + static_cast<uint64_t>(s);
      run.config = base;
      apply_unit_spec(run.config, spec, options.hidden);
      run.config.seed = run.seed;
      try {
        run.config.validate();
        run.engine = resolve_engine(run.config);
      } catch (const Error& e) {
        throw Error("fit: unit spec '" + spec + "': " + e.what());
      }
      result.runs.push_back(std::move(run));
    }
  }

  const auto total = static_cast<int64_t>(result.runs.size());
  int64_t finished = 0;
  detail::run_parallel(
      total, detail::thread_count(options.jobs),
      [&](int64_t i) {
        FitRun& run = result.runs[static_cast<size_t>(i)];
        RunControl control;
        control.stop = options.stop;
        try {
          const TrainResult trained = nalu::run(run.config, {}, control);
          run.engine = trained.engine;
          run.wall_seconds = trained.wall_seconds;
          run.validation_mse = trained.final.interpolation_mse;
          run.holdout_mse = trained.final.extrapolation_mse;
          run.formula = trained.final_formula;
          const auto in = check_formula(run.formula, examples, in_range, options.rtol);
          const auto out = check_formula(run.formula, examples, data->holdout_rows, options.rtol);
          run.formula_in_range_error = in.error;
          run.formula_fits_in_range = in.fits;
          run.formula_holdout_error = out.error;
          run.formula_fits_holdout = out.fits;
        } catch (const NumericalError& e) {
          run.status = "diverged";
          run.error = e.what();
          run.validation_mse = run.holdout_mse = NAN;
          run.formula_in_range_error = run.formula_holdout_error = INFINITY;
        }
        run.validation_error = relative_error(run.validation_mse, examples.scale);
        run.holdout_error = relative_error(run.holdout_mse, examples.scale);
      },
      [&](int64_t i) {
        ++finished;
        if (on_run)
          on_run(result.runs[static_cast<size_t>(i)], finished, total);
      });

  // Model selection on in-range rows only: the first unit spec (the simplest) whose formula
  // fits every in-range row, its seed with the lowest validation MSE; else the lowest
  // validation MSE of all.
  auto better = [&](size_t a, size_t b) {
    return ordered(result.runs[a].validation_mse) < ordered(result.runs[b].validation_mse);
  };
  std::optional<size_t> chosen;
  for (size_t i = 0; i < result.runs.size(); ++i) {
    const FitRun& run = result.runs[i];
    if (run.status != "ok" || !run.formula_fits_in_range)
      continue;
    if (chosen && result.runs[*chosen].unit != run.unit)
      break;
    if (!chosen || better(i, *chosen))
      chosen = i;
  }
  if (!chosen) {
    chosen = 0;
    for (size_t i = 1; i < result.runs.size(); ++i) {
      if (better(i, *chosen))
        chosen = i;
    }
  }
  result.selected = *chosen;
  const FitRun& best = result.chosen();
  if (best.status == "ok" && best.formula_fits_in_range && best.formula_fits_holdout)
    result.verdict = FitVerdict::kExact;
  else if (std::min(best.holdout_error, best.formula_holdout_error) <= options.approximate)
    result.verdict = FitVerdict::kApproximate;

  if (!options.save_model.empty()) {
    check(best.status == "ok", "fit: every model diverged; there is none to save");
    // The same run again, on one thread as the runs above, written beside its destination and
    // moved there once it is checked to be the same model.
    const std::string temporary = options.save_model + ".fit-partial";
    RunControl control;
    control.stop = options.stop;
    control.save_model = temporary;
    TrainResult again;
    detail::run_parallel(
        1, 1, [&](int64_t) { again = nalu::run(best.config, {}, control); }, [](int64_t) {});
    std::error_code ignored;
    const double a = again.final.interpolation_mse, b = best.validation_mse;
    if (!(a == b || (std::isnan(a) && std::isnan(b)))) {
      std::filesystem::remove(temporary, ignored);
      throw Error(
          "fit: training the chosen model again did not give the same model; nothing "
          "was saved");
    }
    std::filesystem::rename(temporary, options.save_model);
  }
  return result;
}

nlohmann::json fit_to_json(const FitResult& result, const FitOptions& options) {
  const auto& data = *result.data;
  const FitRun& chosen = result.chosen();
  auto runs = nlohmann::json::array();
  for (const auto& run : result.runs)
    runs.push_back(run_to_json(run));
  nlohmann::json chosen_json = run_to_json(chosen);
  chosen_json["config"] = config_to_json(chosen.config);
  if (chosen.status == "ok")
    chosen_json["readout"] = formula_to_json(chosen.formula);
  return {
      {"nalu_version", kVersion},
      {"kind", "fit"},
      {"target", result.target},
      {"inputs", result.inputs},
      {"rows", result.rows},
      {"split",
       {{"training", data.training_rows.size()},
        {"validation", data.validation_rows.size()},
        {"holdout", data.holdout_rows.size()},
        {"holdout_magnitude", data.holdout_magnitude},
        {"holdout_fraction", options.split.holdout_fraction},
        {"validation_fraction", options.split.validation_fraction},
        {"seed", options.split.seed},
        {"holdout_rows", data.holdout_rows}}},
      {"settings",
       {{"units", options.units},
        {"seeds", options.seeds},
        {"first_seed", options.first_seed},
        {"hidden", options.hidden},
        {"iterations", options.iterations},
        {"batch_size", options.batch_size},
        {"learning_rate", options.learning_rate},
        {"engine", options.engine},
        {"rtol", options.rtol},
        {"approximate", options.approximate}}},
      {"verdict", verdict_name(result.verdict)},
      {"formula", result.lines()},
      {"formula_ascii", result.ascii_lines()},
      {"chosen", chosen_json},
      {"runs", runs},
  };
}

}  // namespace nalu
