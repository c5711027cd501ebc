// nalu_reference_replay: the reference code's static-function training (stable-nalu's
// experiments/simple_function_static.py with a NAC first layer and a NAC second layer, plain or
// in log space), replayed in C++ on the same LibTorch operations, so that each run gives the
// reference's own numbers, bit for bit, without the Python interpreter in every step.
// Two parts are written out by hand: the NumPy stream (numpy_stream.h) and layer 1's product
// with its weight gradient, summed in the order of the BLAS LibTorch calls here (sequential.h).
// Several runs (seeds) train side by side, their parameters in padded rows (Stacked), each run
// exactly as it trains alone.
//
// scripts/reference_peer.py --replay runs the reference's own set-up code (its data set, its
// start of the weights from torch.manual_seed) and exports what the training loop starts from:
// the training stream's NumPy state, the evaluation sets, the parameters. This program then runs
// the loop as the script does: each step draws a batch from that stream, evaluates every 1,000
// steps before the update, and takes one Adam step (PyTorch 1.13's single-tensor Adam, written
// out op by op). It writes the two metrics the reference's R scripts read, as
// reference_peer.py does.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "numpy_stream.h"
#include "sequential.h"

namespace {

using nalu_tools::NumpyMt19937;
using nlohmann::json;

/// The reference's NACWeight autograd function: w = tanh(ŵ)·σ(m̂), its backward as written
/// there (the same operations in the same order).
struct NacWeight : torch::autograd::Function<NacWeight> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& w_hat,
                               const torch::Tensor& m_hat) {
    auto tanh_w = torch::tanh(w_hat);
    auto sigmoid_m = torch::sigmoid(m_hat);
    ctx->save_for_backward({tanh_w, sigmoid_m});
    return tanh_w * sigmoid_m;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const auto& tanh_w = saved[0];
    const auto& sigmoid_m = saved[1];
    const auto& g = grad[0];
    return {g * torch::rsub(tanh_w * tanh_w, 1) * sigmoid_m,
            g * tanh_w * sigmoid_m * torch::rsub(sigmoid_m, 1)};
  }
};

/// Layer 1's product, x·wᵀ for each run: x [runs, batch, inner] (no gradient), w [runs, outputs,
/// inner] → [runs, batch, outputs], summed in the reference BLAS's order (sequential.h), with the
/// weight gradient of mm's backward summed in its order too.
struct SequentialLinear : torch::autograd::Function<SequentialLinear> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w) {
    const auto xc = x.contiguous();
    const auto wc = w.contiguous();
    const std::int64_t runs = x.size(0), batch = x.size(1), inner = x.size(2), outputs = w.size(1);
    auto z = torch::empty({runs, batch, outputs}, torch::kFloat32);
    for (std::int64_t n = 0; n < runs; ++n) {
      nalu_tools::sequential_linear(
          xc.data_ptr<float>() + n * batch * inner, wc.data_ptr<float>() + n * outputs * inner,
          z.data_ptr<float>() + n * batch * outputs, batch, inner, outputs);
    }
    ctx->save_for_backward({xc});
    ctx->saved_data["outputs"] = outputs;
    return z;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto x = ctx->get_saved_variables()[0];
    const auto g = grad[0].contiguous();
    const std::int64_t runs = x.size(0), batch = x.size(1), inner = x.size(2);
    const std::int64_t outputs = ctx->saved_data["outputs"].toInt();
    auto gw = torch::empty({runs, outputs, inner}, torch::kFloat32);
    for (std::int64_t n = 0; n < runs; ++n) {
      nalu_tools::sequential_linear_weight_grad(
          g.data_ptr<float>() + n * batch * outputs, x.data_ptr<float>() + n * batch * inner,
          gw.data_ptr<float>() + n * outputs * inner, batch, inner, outputs);
    }
    return {torch::Tensor(), gw};
  }
};

struct Stream {
  NumpyMt19937 rng;
  double low, high;
};

Stream read_stream(const json& j, const char* what) {
  try {
    const auto range = j.at("range").get<std::vector<double>>();
    if (range.size() != 2 || !(range[0] < range[1])) {
      throw std::invalid_argument("its range must be [low, high] with low < high");
    }
    return {
        NumpyMt19937(j.at("mt_key").get<std::vector<std::uint32_t>>(), j.at("mt_pos").get<int>()),
        range[0], range[1]};
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("setup: the ") + what + " stream: " + e.what());
  }
}

struct Task {
  std::vector<std::pair<int, int>> subsets;  // [start, end) of each subset
  std::string operation;
  int input_size = 0;
};

double apply_operation(const std::string& op, double a, double b) {
  if (op == "add")
    return a + b;
  if (op == "sub")
    return a - b;
  if (op == "mul")
    return a * b;
  return a / b;  // "div", checked when the setup is read
}

/// One call of the reference data set's __getitem__ for `rows` rows: a uniform draw of
/// rows × input_size doubles, the subset sums, the operation, both cast to float32.
void draw(Stream& s, const Task& task, std::int64_t rows, float* x, float* t) {
  const auto size = static_cast<std::size_t>(rows * task.input_size);
  thread_local std::vector<double> values;
  values.resize(size);
  s.rng.fill_uniform(values.data(), size, s.low, s.high);
  for (std::size_t i = 0; i < size; ++i)
    x[i] = static_cast<float>(values[i]);
  for (std::int64_t r = 0; r < rows; ++r) {
    const double* row = values.data() + r * task.input_size;
    const double a = nalu_tools::numpy_row_sum(row, task.subsets[0].first, task.subsets[0].second);
    const double b = nalu_tools::numpy_row_sum(row, task.subsets[1].first, task.subsets[1].second);
    t[r] = static_cast<float>(apply_operation(task.operation, a, b));
  }
}

torch::Tensor read_floats(const std::filesystem::path& path, std::vector<std::int64_t> shape) {
  std::int64_t count = 1;
  for (auto d : shape)
    count *= d;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("setup: cannot open " + path.string());
  auto tensor = torch::empty(shape, torch::kFloat32);
  in.read(reinterpret_cast<char*>(tensor.data_ptr<float>()),
          static_cast<std::streamsize>(count * 4));
  if (in.gcount() != count * 4 || in.peek() != std::char_traits<char>::eof()) {
    throw std::runtime_error("setup: " + path.string() + " does not hold " + std::to_string(count) +
                             " float32 values");
  }
  return tensor;
}

struct Model {
  torch::Tensor w1_hat, m1_hat, w2_hat, m2_hat;
  double eps = 1e-7;
  bool log_space = true;  // --nac-mul normal: exp(layer_2(log(|z1| + eps)))

  torch::Tensor forward(const torch::Tensor& x) const {
    auto z1 = SequentialLinear::apply(x.unsqueeze(0), NacWeight::apply(w1_hat, m1_hat).unsqueeze(0))
                  .squeeze(0);
    if (!log_space)
      return torch::linear(z1, NacWeight::apply(w2_hat, m2_hat));
    return torch::exp(
        torch::linear(torch::log(torch::abs(z1) + eps), NacWeight::apply(w2_hat, m2_hat)));
  }
};

/// PyTorch 1.13's torch.optim.Adam (single-tensor path, no weight decay, no AMSGrad), with the
/// same tensor operations and the same double-precision scalars.
struct Adam {
  double lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  std::vector<torch::Tensor> params, exp_avg, exp_avg_sq;
  std::vector<float> step;  // the reference keeps each step count in a float32 tensor

  Adam(std::vector<torch::Tensor> ps, double learning_rate)
      : lr(learning_rate), params(std::move(ps)) {
    for (const auto& p : params) {
      exp_avg.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      exp_avg_sq.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      step.push_back(0.0F);
    }
  }

  void zero_grad() {
    for (auto& p : params) {
      auto g = p.mutable_grad();
      if (g.defined()) {
        g.requires_grad_(false);
        g.zero_();
      }
    }
  }

  void update() {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& grad = params[i].grad();
      step[i] += 1.0F;
      exp_avg[i].mul_(beta1).add_(grad, 1 - beta1);
      exp_avg_sq[i].mul_(beta2).addcmul_(grad, grad.conj(), 1 - beta2);
      const double s = step[i];
      const double bias_correction1 = 1 - std::pow(beta1, s);
      const double bias_correction2 = 1 - std::pow(beta2, s);
      const double step_size = lr / bias_correction1;
      const double bias_correction2_sqrt = std::sqrt(bias_correction2);
      auto denom = (exp_avg_sq[i].sqrt() / bias_correction2_sqrt).add_(eps);
      params[i].addcdiv_(exp_avg[i], denom, -step_size);
    }
  }
};

/// One run's setup, as reference_peer.py exports it.
struct Run {
  Task task;
  Model start;  // its parameters at step 0 (leaf tensors, not trained)
  std::int64_t batch = 0, iterations = 0;
  double lr = 0;
  std::string nac_mul;
  Stream train{NumpyMt19937::from_seed(0), 0, 1};
  std::vector<torch::Tensor> eval_x, eval_t;
};

constexpr const char* kEvalNames[] = {"interpolation", "extrapolation"};

Run read_setup(const std::filesystem::path& setup_path) {
  std::ifstream setup_in(setup_path);
  if (!setup_in)
    throw std::runtime_error("cannot open the setup " + setup_path.string());
  json setup;
  try {
    setup = json::parse(setup_in);
  } catch (const json::exception& e) {
    throw std::runtime_error("setup " + setup_path.string() + " is not JSON: " + e.what());
  }
  const auto dir = setup_path.parent_path();
  Run run;
  std::vector<Stream> eval_streams;
  try {
    if (setup.at("format").get<int>() != 1)
      throw std::invalid_argument("unknown format");
    auto& task = run.task;
    task.operation = setup.at("operation").get<std::string>();
    if (task.operation != "add" && task.operation != "sub" && task.operation != "mul" &&
        task.operation != "div") {
      throw std::invalid_argument("operation " + task.operation + " is not add, sub, mul or div");
    }
    task.input_size = setup.at("input_size").get<int>();
    for (const auto& s : setup.at("subset_ranges")) {
      task.subsets.emplace_back(s.at(0).get<int>(), s.at(1).get<int>());
    }
    if (task.subsets.size() != 2)
      throw std::invalid_argument("two subsets are supported");
    for (auto [a, b] : task.subsets) {
      if (a < 0 || b <= a || b > task.input_size)
        throw std::invalid_argument("a subset lies outside the input");
    }
    run.nac_mul = setup.at("nac_mul").get<std::string>();
    if (run.nac_mul != "normal" && run.nac_mul != "none") {
      throw std::invalid_argument("--nac-mul " + run.nac_mul +
                                  " is not replayed (normal and none are)");
    }
    run.start.log_space = run.nac_mul == "normal";
    run.start.eps = setup.at("eps").get<double>();
    run.batch = setup.at("batch_size").get<std::int64_t>();
    run.iterations = setup.at("iterations").get<std::int64_t>();
    run.lr = setup.at("learning_rate").get<double>();
    const auto& params = setup.at("parameters");
    auto param = [&](const char* name, std::int64_t rows, std::int64_t cols) {
      const auto shape = params.at(name).at("shape").get<std::vector<std::int64_t>>();
      if (shape != std::vector<std::int64_t>{rows, cols}) {
        throw std::invalid_argument(std::string(name) + " has shape other than " +
                                    std::to_string(rows) + "x" + std::to_string(cols));
      }
      const auto values = params.at(name).at("values").get<std::vector<double>>();
      if (static_cast<std::int64_t>(values.size()) != rows * cols) {
        throw std::invalid_argument(std::string(name) + ": shape and values disagree");
      }
      std::vector<float> f(values.begin(), values.end());
      return torch::tensor(f, torch::kFloat32).reshape(shape).clone();
    };
    const auto& shape1 = params.at("layer_1.W_hat").at("shape");
    const std::int64_t hidden = shape1.at(0).get<std::int64_t>();
    run.start.w1_hat = param("layer_1.W_hat", hidden, task.input_size);
    run.start.m1_hat = param("layer_1.M_hat", hidden, task.input_size);
    run.start.w2_hat = param("layer_2.W_hat", 1, hidden);
    run.start.m2_hat = param("layer_2.M_hat", 1, hidden);
    run.train = read_stream(setup.at("train"), "training");
    for (const char* name : kEvalNames) {
      const auto& e = setup.at(name);
      eval_streams.push_back(read_stream(e, name));
      const auto rows = e.at("rows").get<std::int64_t>();
      run.eval_x.push_back(
          read_floats(dir / e.at("x_file").get<std::string>(), {rows, task.input_size}));
      run.eval_t.push_back(read_floats(dir / e.at("t_file").get<std::string>(), {rows, 1}));
    }
  } catch (const json::exception& e) {
    throw std::runtime_error("setup " + setup_path.string() + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("setup " + setup_path.string() + ": " + e.what());
  }
  // The evaluation sets came from the reference's code; drawn again here from their NumPy
  // states, they must come out the same, bit for bit: a check of this stream on 2·10⁶ draws.
  for (std::size_t k = 0; k < eval_streams.size(); ++k) {
    auto x = torch::empty_like(run.eval_x[k]);
    auto t = torch::empty_like(run.eval_t[k]);
    draw(eval_streams[k], run.task, x.size(0), x.data_ptr<float>(), t.data_ptr<float>());
    if (!torch::equal(x, run.eval_x[k]) || !torch::equal(t, run.eval_t[k])) {
      throw std::runtime_error("setup " + setup_path.string() + ": the " + kEvalNames[k] +
                               " set drawn here differs from the reference's: this NumPy stream is "
                               "not the one the reference used");
    }
  }
  return run;
}

/// Parameters of several runs side by side. Each run's row is padded so that an element-wise
/// kernel walks it as it walks the run's own tensor (the same split between vector body and
/// scalar tail: tanh and sigmoid differ in the last bit between the two), and each step's
/// operations act on all runs at once.
struct Stacked {
  torch::Tensor storage;  // [runs, padded], trained
  std::int64_t rows, cols;
  torch::Tensor view() const {
    return storage.narrow(1, 0, rows * cols).view({storage.size(0), rows, cols});
  }
};

Stacked stack(const std::vector<Run>& runs, torch::Tensor Model::*member) {
  const auto& first = runs.front().start.*member;
  const std::int64_t rows = first.size(0), cols = first.size(1);
  const std::int64_t padded = (rows * cols + 63) / 64 * 64 + 64;
  auto storage = torch::zeros({static_cast<std::int64_t>(runs.size()), padded}, torch::kFloat32);
  for (std::size_t k = 0; k < runs.size(); ++k) {
    storage[static_cast<std::int64_t>(k)]
        .narrow(0, 0, rows * cols)
        .copy_((runs[k].start.*member).reshape(-1));
  }
  storage.set_requires_grad(true);
  return {storage, rows, cols};
}

int train(const std::vector<std::filesystem::path>& setups,
          const std::vector<std::filesystem::path>& outputs,
          std::optional<std::int64_t> iterations_override, std::int64_t progress_every) {
  if (setups.size() != outputs.size()) {
    throw std::runtime_error("give one --output per setup (" + std::to_string(setups.size()) +
                             " setups, " + std::to_string(outputs.size()) + " outputs)");
  }
  std::vector<Run> runs;
  for (const auto& s : setups)
    runs.push_back(read_setup(s));
  const auto& first = runs.front();
  for (const auto& r : runs) {
    if (r.batch != first.batch || r.iterations != first.iterations || r.lr != first.lr ||
        r.nac_mul != first.nac_mul || r.start.eps != first.start.eps ||
        r.task.input_size != first.task.input_size || r.task.operation != first.task.operation ||
        !r.start.w1_hat.sizes().equals(first.start.w1_hat.sizes())) {
      throw std::runtime_error("runs trained together must differ in their seed only");
    }
  }
  std::int64_t iterations = iterations_override.value_or(first.iterations);
  if (iterations < 0 || first.batch < 1)
    throw std::runtime_error("iterations must be >= 0 and the batch >= 1");
  for (const auto& o : outputs) {
    if (std::filesystem::exists(o) && std::filesystem::file_size(o) > 0) {
      throw std::runtime_error(o.string() + " exists; refusing to overwrite a run's records");
    }
  }
  std::vector<std::ofstream> outs;
  for (const auto& o : outputs) {
    outs.emplace_back(o, std::ios::app);
    if (!outs.back())
      throw std::runtime_error("cannot write " + o.string());
  }

  torch::set_num_threads(1);
  const auto n = static_cast<std::int64_t>(runs.size());
  const std::int64_t batch = first.batch, input = first.task.input_size;
  Stacked w1 = stack(runs, &Model::w1_hat), m1 = stack(runs, &Model::m1_hat);
  Stacked w2 = stack(runs, &Model::w2_hat), m2 = stack(runs, &Model::m2_hat);
  Adam adam({w1.storage, m1.storage, w2.storage, m2.storage}, first.lr);
  const double eps = first.start.eps;
  const bool log_space = first.start.log_space;

  const auto wall_start = std::chrono::steady_clock::now();
  auto record = [&](std::ofstream& out, std::int64_t step, const char* metric, double value) {
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    const double cpu = static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
    json line = {{"step", step},
                 {"metric", metric},
                 {"value", nullptr},
                 {"seconds", std::round(wall * 1000) / 1000},
                 {"cpu_seconds", std::round(cpu * 1000) / 1000}};
    if (std::isfinite(value))
      line["value"] = value;
    out << line.dump() << '\n';
  };
  for (std::int64_t i = 0; i <= iterations; ++i) {
    auto x = torch::empty({n, batch, input}, torch::kFloat32);
    auto t = torch::empty({n, batch, 1}, torch::kFloat32);
    for (std::int64_t k = 0; k < n; ++k) {
      draw(runs[static_cast<std::size_t>(k)].train, runs[static_cast<std::size_t>(k)].task, batch,
           x.data_ptr<float>() + k * batch * input, t.data_ptr<float>() + k * batch);
    }
    adam.zero_grad();
    if (i % 1000 == 0) {
      // Each run is evaluated on its own, as the reference evaluates it.
      torch::NoGradGuard no_grad;
      for (std::int64_t k = 0; k < n; ++k) {
        auto& r = runs[static_cast<std::size_t>(k)];
        const Model model{w1.view()[k].clone(),
                          m1.view()[k].clone(),
                          w2.view()[k].clone(),
                          m2.view()[k].clone(),
                          eps,
                          log_space};
        double mse[2];
        for (std::size_t e = 0; e < 2; ++e) {
          mse[e] = static_cast<double>(
              torch::mse_loss(model.forward(r.eval_x[e]), r.eval_t[e]).item<float>());
        }
        auto& out = outs[static_cast<std::size_t>(k)];
        record(out, i, "valid/interpolation", mse[0]);
        record(out, i, "test/extrapolation", mse[1]);
        out.flush();
        if (progress_every > 0 && i % progress_every == 0) {
          std::cerr << outputs[static_cast<std::size_t>(k)].filename().string() << ": step " << i
                    << " of " << iterations << ", interpolation MSE " << mse[0]
                    << ", extrapolation MSE " << mse[1] << '\n';
        }
      }
    }
    auto z1 = SequentialLinear::apply(x, NacWeight::apply(w1.view(), m1.view()));
    const auto w2_now = NacWeight::apply(w2.view(), m2.view()).transpose(1, 2);
    auto z2 = log_space ? torch::exp(torch::bmm(torch::log(torch::abs(z1) + eps), w2_now))
                        : torch::bmm(z1, w2_now);
    // Each run's own MSE; their sum gives each run its own gradient.
    auto loss = torch::pow(z2 - t, 2).mean({1, 2}).sum();
    loss.backward();
    adam.update();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Replays the reference code's static-function training (stable-nalu, NAC layers) "
      "from setups that scripts/reference_peer.py --replay exports; several runs (seeds) "
      "train side by side, each as it trains alone."};
  std::vector<std::filesystem::path> setups, outputs;
  std::optional<std::int64_t> iterations;
  std::int64_t progress_every = 100000;
  app.add_option("setups", setups, "setup.json files written by reference_peer.py")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--output", outputs,
                 "a JSON Lines file per setup, in their order (as reference_peer.py writes them)")
      ->required();
  app.add_option("--iterations", iterations, "train this many steps instead of the setups'")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--progress-every", progress_every,
                 "print a progress line every this many steps (0: never)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    return train(setups, outputs, iterations, progress_every);
  } catch (const std::exception& e) {
    std::cerr << "nalu_reference_replay: " << e.what() << '\n';
    return 1;
  }
}
