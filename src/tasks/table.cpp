// Tasks made of a table of examples (table.h).
#include "nalu/tasks/table.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nalu/error.h"
#include "nalu/random.h"
#include "nalu/strings.h"

namespace nalu {

namespace {

// Rows `rows` of the table as float tensors.
void gather(const std::vector<double>& inputs, const std::vector<double>& targets, int64_t columns,
            const std::vector<int64_t>& rows, torch::Tensor& input, torch::Tensor& target) {
  const auto n = static_cast<int64_t>(rows.size());
  input = torch::empty({n, columns}, torch::kFloat);
  target = torch::empty({n, 1}, torch::kFloat);
  float* x = input.data_ptr<float>();
  float* y = target.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const auto row = static_cast<size_t>(rows[static_cast<size_t>(i)]);
    for (int64_t c = 0; c < columns; ++c)
      x[i * columns + c] = static_cast<float>(inputs[row * static_cast<size_t>(columns) + c]);
    y[i] = static_cast<float>(targets[row]);
  }
}

}  // namespace

TableData split_table(const std::vector<double>& inputs, const std::vector<double>& targets,
                      int64_t columns, const TableSplitOptions& options) {
  check(columns > 0, "table: at least one input column is needed");
  const auto rows = static_cast<int64_t>(targets.size());
  check(static_cast<int64_t>(inputs.size()) == rows * columns,
        "table: " + std::to_string(inputs.size()) + " input values do not make " +
            std::to_string(rows) + " rows of " + std::to_string(columns));
  for (const double fraction : {options.holdout_fraction, options.validation_fraction}) {
    check(fraction > 0 && fraction < 1,
          "table: the held-out and validation shares must be in (0, 1), got " +
              format_number(fraction));
  }
  check(rows >= 3, "table: " + std::to_string(rows) +
                       " rows are too few (one each for training, validation and the held-out "
                       "check at least; a few hundred are better)");

  std::vector<double> magnitude(static_cast<size_t>(rows), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < columns; ++c) {
      magnitude[static_cast<size_t>(r)] =
          std::max(magnitude[static_cast<size_t>(r)],
                   std::abs(inputs[static_cast<size_t>(r * columns + c)]));
    }
  }
  std::vector<int64_t> order(static_cast<size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return magnitude[static_cast<size_t>(a)] > magnitude[static_cast<size_t>(b)];
  });
  const int64_t holdout = std::clamp<int64_t>(
      std::llround(options.holdout_fraction * static_cast<double>(rows)), 1, rows - 2);
  const int64_t rest = rows - holdout;
  const int64_t validation = std::clamp<int64_t>(
      std::llround(options.validation_fraction * static_cast<double>(rest)), 1, rest - 1);

  TableData data;
  data.holdout_rows.assign(order.begin(), order.begin() + holdout);
  data.holdout_magnitude = magnitude[static_cast<size_t>(order[static_cast<size_t>(holdout - 1)])];
  // The validation rows: a seeded random draw from the rest.
  std::vector<int64_t> in_range(order.begin() + holdout, order.end());
  std::sort(in_range.begin(), in_range.end());
  auto generator = make_generator(options.seed);
  const auto permutation = torch::randperm(rest, generator, torch::kLong);
  const int64_t* p = permutation.data_ptr<int64_t>();
  for (int64_t i = 0; i < rest; ++i) {
    (i < validation ? data.validation_rows : data.training_rows)
        .push_back(in_range[static_cast<size_t>(p[i])]);
  }
  for (auto* part : {&data.holdout_rows, &data.validation_rows, &data.training_rows})
    std::sort(part->begin(), part->end());
  gather(inputs, targets, columns, data.training_rows, data.training_input, data.training_target);
  gather(inputs, targets, columns, data.validation_rows, data.validation.input,
         data.validation.target);
  gather(inputs, targets, columns, data.holdout_rows, data.holdout.input, data.holdout.target);
  return data;
}

}  // namespace nalu
