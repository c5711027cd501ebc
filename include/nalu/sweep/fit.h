// Learning an arithmetic formula from a table (`nalu fit`): unit stacks that can express sums,
// differences, products, ratios and powers are trained on the table's rows, several seeds each
// and side by side; the rows with the largest inputs are held out, the model is chosen on
// validation rows only, and its formula is read back, named after the table's columns, with a
// verdict on the held-out rows.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nalu/formula.h"
#include "nalu/io/csv.h"
#include "nalu/tasks/table.h"
#include "nalu/train/config.h"

namespace nalu {

/// The unit specs `nalu fit` tries by default, simplest first (as parse_unit_specs writes them):
/// nau (sums, differences), nmu (products), nau,nmu (products of sums), nmu,nau (sums of
/// products), nau,nmu,nau (sums of products of sums: a² − b), real-npu:improved (ratios and
/// powers), nmru (ratios).
const std::vector<std::string>& default_fit_units();

struct FitOptions {
  std::vector<std::string> units = default_fit_units();  // unit specs, simplest first
  int64_t seeds = 5;  // seeds first_seed .. first_seed + seeds - 1 per unit spec
  uint64_t first_seed = 0;
  int64_t hidden = 3;  // width of each hidden layer of specs of several layers
  int64_t iterations = 50'000;
  int64_t batch_size = 128;
  double learning_rate = 1e-3;
  TableSplitOptions split;  // the held-out and validation rows
  int64_t jobs = 0;         // threads; 0: one per core
  std::string engine = "auto";
  /// A formula fits a row when |formula - y| <= rtol * (|y| + rms(y)), rms over the table.
  double rtol = 1e-5;
  /// "approximate": the chosen model's (or formula's) relative RMS error on the held-out rows is
  /// at most this.
  double approximate = 1e-2;
  /// Polled by every run: when it reads true, the runs stop and fit_table throws Interrupted.
  const std::atomic<bool>* stop = nullptr;
  /// When set, the chosen model is written here (nalu::save_model): it is trained once more,
  /// with the same result, which is checked.
  std::string save_model;
};

/// One trained model: a unit spec and a seed.
struct FitRun {
  std::string unit;
  uint64_t seed = 0;
  RunConfig config;
  std::string status = "ok";  // "ok" or "diverged"
  std::string error;          // why it diverged
  std::string engine;
  double wall_seconds = 0.0;
  /// The model after its last step: MSE and relative RMS error sqrt(MSE) / rms(y) on the
  /// validation and held-out rows.
  double validation_mse = 0.0, holdout_mse = 0.0;
  double validation_error = 0.0, holdout_error = 0.0;
  /// Its formula (readout at the last step) and, evaluated in double precision, its relative RMS
  /// error on the in-range (training and validation) and held-out rows, and whether it fits every
  /// in-range row (FitOptions::rtol).
  Formula formula;
  double formula_in_range_error = 0.0, formula_holdout_error = 0.0;
  bool formula_fits_in_range = false;
  bool formula_fits_holdout = false;
};

enum class FitVerdict { kExact, kApproximate, kNone };
/// "exact", "approximate", "no arithmetic formula found".
std::string verdict_text(FitVerdict verdict);
/// "exact", "approximate", "none" (as records write it).
std::string verdict_name(FitVerdict verdict);

struct FitResult {
  std::vector<std::string> inputs;  // the input columns, in the formula's order (x0, x1, ...)
  std::string target;
  int64_t rows = 0;
  std::shared_ptr<const TableData> data;
  std::vector<FitRun> runs;  // in the order unit spec, seed
  size_t selected = 0;
  /// exact: the chosen formula fits every row, held-out ones included; approximate: the chosen
  /// model or formula is within FitOptions::approximate on the held-out rows; none otherwise.
  FitVerdict verdict = FitVerdict::kNone;

  const FitRun& chosen() const { return runs[selected]; }
  /// The chosen formula with the columns' names: pretty ("y = a + b") and in Python/SymPy form,
  /// with names made into identifiers ("mass (kg)" -> mass_kg).
  std::vector<std::string> lines() const;
  std::vector<std::string> ascii_lines() const;
};

/// Fits `target` from `inputs` (all other columns when empty). Throws nalu::Error for an
/// unknown or repeated column, a target among the inputs, bad options, or a table too small to
/// split, before any training. `on_run` (serialised) is called as each run finishes with
/// (run, finished, total).
///
/// Example:
/// ```
/// nalu::io::Table table = nalu::io::read_csv("data.csv");
/// nalu::FitResult fit = nalu::fit_table(table, "y", {});
/// for (const auto& line : fit.lines()) std::cout << line << "\n";  // y = a · b
/// ```
FitResult fit_table(const io::Table& table, const std::string& target,
                    const std::vector<std::string>& inputs, const FitOptions& options = {},
                    const std::function<void(const FitRun&, int64_t, int64_t)>& on_run = {});

/// The chosen run, the verdict, the split and a summary of every run, as JSON.
nlohmann::json fit_to_json(const FitResult& result, const FitOptions& options);

/// A column name as a Python identifier: other characters become '_', a leading digit gets one
/// in front, and names SymPy takes for itself (exp, pi, E, I, ...) get one behind.
std::string python_name(const std::string& column);

}  // namespace nalu
