// The parts of one fused-engine training step, timed one at a time (see parts.h). Each part runs
// `steps` times on its own, through the calls src/train/fused_trainer.cpp makes, in the blocks of
// rows it uses, and is timed by the thread's CPU clock.
#include "parts.h"

#include <torch/torch.h>

#include <algorithm>
#include <string_view>

#include "fused/network.h"
#include "fused/optimizer.h"
#include "kernels/kernels.h"
#include "nalu/nalu.h"

namespace nalu_bench {

namespace {

// CPU µs per call of f(step) over steps 1..steps.
template <class F>
double per_step_us(int64_t steps, F&& f) {
  const double start = thread_cpu_seconds();
  for (int64_t step = 1; step <= steps; ++step)
    f(step);
  return (thread_cpu_seconds() - start) * 1e6 / static_cast<double>(steps);
}

}  // namespace

std::vector<Part> time_parts(const nalu::RunConfig& config, int64_t steps) {
  namespace fused = nalu::fused;
  if (steps < 1)
    throw nalu::Error("time_parts: steps must be at least 1");
  if (const auto why = fused::unsupported_reason(config); !why.empty())
    throw nalu::Error("engine fused: " + why);
  const nalu::ArithmeticTask task = nalu::make_task(config);
  const nalu::Stack model = nalu::make_model(config);
  const int batch = static_cast<int>(config.training.batch_size);
  const std::vector<int64_t> sizes = config.sizes();
  const int inputs = static_cast<int>(sizes.front());
  const int hidden = static_cast<int>(sizes[1]);
  const std::vector<std::string> layers = config.resolve_layers();
  fused::Network net(layers, sizes, config.model.settings, batch);
  const auto reset = [&] {
    net.load(*model);  // also prepares the layers
  };
  reset();
  fused::Optimizer optimizer(config.optimizer, net.parameters().size());
  const nalu::BatchStream stream(task, nalu::derive_seed(config.seed, 1));
  const int block = fused::training_block_rows(inputs, batch);
  const auto& kernels = fused::kernels::table();

  // Batch 1, drawn once, for the parts that do not draw.
  std::vector<float> input(static_cast<size_t>(batch) * inputs), target(batch);
  stream.fill(1, batch, input.data(), target.data());
  // The regularisers' weights at the last step, where every schedule has ramped up.
  std::vector<double> lambdas;
  for (const auto& schedule : nalu::layer_schedules(*model, config.training))
    lambdas.push_back(schedule.at(config.training.iterations));
  // What a layer's forward and backward cannot do with less: y = x W^T and dW += dy^T x for the
  // first layer, on the block sizes training uses.
  std::vector<float> weights(static_cast<size_t>(hidden) * inputs, 0.5f);
  std::vector<float> products(static_cast<size_t>(block) * hidden, 0.0f);
  std::vector<float> weight_gradient(weights.size(), 0.0f);

  const auto over_blocks = [&](auto&& body) {
    for (int first = 0; first < batch; first += block)
      body(first, std::min(block, batch - first));
  };
  std::vector<Part> parts;
  parts.push_back({"draw the batch", "BatchStream::fill_rows: inputs and targets", false});
  parts.back().cpu_us = per_step_us(steps, [&](int64_t step) {
    over_blocks([&](int first, int rows) {
      stream.fill_rows(step, first, rows, input.data() + static_cast<size_t>(first) * inputs,
                       target.data() + first);
    });
  });
  parts.push_back({"of which the inputs", "the generator: uniform() alone", true});
  parts.back().cpu_us = per_step_us(steps, [&](int64_t step) {
    const uint64_t key = nalu::derive_seed(1, static_cast<uint64_t>(step));
    over_blocks([&](int first, int rows) {
      kernels.uniform(static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32),
                      static_cast<uint32_t>(first * inputs), rows * inputs, stream.uniform_map(),
                      input.data() + static_cast<size_t>(first) * inputs);
    });
  });
  stream.fill(1, batch, input.data(), target.data());
  parts.push_back({"of which the subset sums", "row_sums() for a and b", true});
  const auto& subsets = task.subsets();
  std::vector<float> sums(static_cast<size_t>(block));
  parts.back().cpu_us = per_step_us(steps, [&](int64_t) {
    over_blocks([&](int first, int rows) {
      const float* x = input.data() + static_cast<size_t>(first) * inputs;
      for (const auto& [begin, end] :
           {std::pair{subsets.a_begin, subsets.a_end}, std::pair{subsets.b_begin, subsets.b_end}})
        kernels.row_sums(rows, inputs, x, static_cast<int>(begin), static_cast<int>(end),
                         sums.data());
    });
  });
  parts.push_back({"forward and backward", "zero_gradients, accumulate_mse_gradients", false});
  parts.back().cpu_us = per_step_us(steps, [&](int64_t) {
    net.zero_gradients();
    over_blocks([&](int first, int rows) {
      (void)net.accumulate_mse_gradients(
          rows, batch, input.data() + static_cast<size_t>(first) * inputs, target.data() + first);
    });
  });
  parts.push_back({"of which two products", "first layer: x W^T and dW += dy^T x", true});
  // The AVX2 kernels run each row of x (forward) and each row of dW (backward) in 8-lane vectors,
  // the last one partial: both products issue batch x hidden x (inputs rounded up to 8).
  if (std::string_view(kernels.name).substr(0, 4) == "avx2")
    parts.back().multiply_adds = 2.0 * batch * hidden * ((inputs + 7) / 8 * 8);
  parts.back().cpu_us = per_step_us(steps, [&](int64_t) {
    over_blocks([&](int first, int rows) {
      const float* x = input.data() + static_cast<size_t>(first) * inputs;
      kernels.matmul_nt(rows, hidden, inputs, x, weights.data(), products.data());
      kernels.matmul_tn_acc(rows, hidden, inputs, products.data(), x, weight_gradient.data());
    });
  });
  // The NALU and NAC-mul take log(|x| + eps) of every input of their layer.
  if (layers.front() == "nalu" || layers.front() == "nac-mul") {
    parts.push_back(
        {"of which the inputs' logs", "first layer: log(|x| + eps) of every input", true});
    std::vector<float> logs(static_cast<size_t>(block) * inputs);
    parts.back().cpu_us = per_step_us(steps, [&](int64_t) {
      over_blocks([&](int first_row, int rows) {
        kernels.log_abs_eps(rows * inputs, input.data() + static_cast<size_t>(first_row) * inputs,
                            1e-7f, logs.data());
      });
    });
  }
  // The last layer alone (a two-layer stack: hidden -> 1), on the first layer's products as input.
  if (sizes.size() == 3) {
    auto last = fused::make_layer(layers.back(), hidden, 1, config.model.settings, block, nullptr);
    int64_t count = 0;
    for (const auto size : last->parameter_sizes())
      count += size;
    const std::vector<float>& all = net.parameters();
    const std::vector<float> params(all.end() - count, all.end());
    std::vector<float> grads(params.size()), y(static_cast<size_t>(block)),
        dy(static_cast<size_t>(block), 1e-3f), dx(static_cast<size_t>(block) * hidden);
    last->prepare(params.data());
    parts.push_back({"of which the last layer",
                     layers.back() + " " + std::to_string(hidden) + " -> 1: forward and backward",
                     true});
    parts.back().cpu_us = per_step_us(steps, [&](int64_t) {
      over_blocks([&](int, int rows) {
        last->forward(rows, params.data(), products.data(), y.data());
        last->backward(rows, params.data(), products.data(), y.data(), dy.data(), grads.data(),
                       dx.data());
      });
    });
  }
  parts.push_back({"regularisers", "regularize, with the last step's lambdas", false});
  parts.back().cpu_us = per_step_us(steps, [&](int64_t) { (void)net.regularize(lambdas); });
  parts.push_back({"optimiser", config.optimizer.name + " on every parameter", false});
  parts.back().cpu_us =
      per_step_us(steps, [&](int64_t) { optimizer.step(net.parameters(), net.gradients()); });
  reset();
  parts.push_back({"clamp and prepare", "project, prepare", false});
  parts.back().cpu_us = per_step_us(steps, [&](int64_t) {
    net.project();
    net.prepare();
  });
  return parts;
}

}  // namespace nalu_bench
