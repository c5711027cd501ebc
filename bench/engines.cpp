// nalu_bench_engines: microseconds per training step of the fused engine, the torch engine and
// plain PyTorch (bench/pytorch_step.py, when an interpreter with torch is found), side by side,
// on three cases:
//   (a) the field's task: static, 100 inputs, a * b, NAU then NMU, 100-2-1, batch 128;
//   (b) static, 10 inputs, NALU 10-2-1, batch 64;
//   (c) static, 100 inputs, NALU 100-2-1, batch 128;
// (b) and (c) use a + b unless --nalu-op says otherwise (the op changes only the target), and
// NALU unless --nalu-unit names another unit (nac, nac-mul, linear, ...; then without PyTorch).
// Each figure is the median over --repeats repetitions, the engines interleaved within each so
// that machine noise hits them alike; every engine runs on one intra-op thread. Two tables:
// wall-clock time per step (TrainResult::wall_seconds / iterations) and the training thread's
// CPU time per step, which holds up better when other processes share the cores. Then the
// throughput of the fused engine on (a): K seeds one after another on 1 thread against the same
// K seeds on 2 threads. A benchmark, not a test:
//   ./build/bench/nalu_bench_engines                   (full run, about a minute on an idle box)
//   ./build/bench/nalu_bench_engines --quick           (smoke check, seconds)
//   ./build/bench/nalu_bench_engines --json out.json   (also every figure as JSON)
//   ./build/bench/nalu_bench_engines --parts           (also where a fused step's time goes, and
//                                                       the core's FMA peak to hold it against)
#include <torch/torch.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fma_peak.h"
#include "nalu/io/files.h"
#include "nalu/nalu.h"
#include "parts.h"

namespace {

using nalu_bench::thread_cpu_seconds;

constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;
// Rounds of the FMA peak probe (--parts): about 10-40 ms per width on current cores.
constexpr int64_t kFmaPeakRounds = 4'000'000;

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

double median_of(std::vector<double> s) {
  std::sort(s.begin(), s.end());
  const size_t n = s.size();
  return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

// The figure of one engine on one case: the per-repetition samples (us/step of wall-clock time,
// and of the training thread's CPU time), or why none.
struct Cell {
  std::vector<double> samples, cpu_samples;
  std::string unavailable;  // "n/a (...)", "not installed", "diverged ..."; empty when measured
  std::vector<std::string> notes;

  std::optional<double> median(bool cpu = false) const {
    const auto& s = cpu ? cpu_samples : samples;
    if (s.empty())
      return std::nullopt;
    return median_of(s);
  }
};

struct Case {
  std::string id;
  std::string title;
  nalu::RunConfig config;
  bool selected = true;  // named by --cases
  Cell fused, torch, pytorch;
  // --parts: the fused step's parts (names from the first repetition) and their CPU µs per step,
  // one sample per repetition.
  std::vector<nalu_bench::Part> parts;
  std::vector<std::vector<double>> part_samples;
};

struct Flags {
  int64_t fused_steps = 20'000;
  int64_t torch_steps = 1'000;
  int64_t python_steps = 1'000;
  int64_t repeats = 3;
  int64_t scaling_seeds = 4;
  int64_t scaling_steps = 20'000;
  int64_t eval_size = 1'000;
  std::vector<std::string> cases = {"a", "b", "c"};
  std::string nalu_op = "add";
  std::string nalu_unit = "nalu";
  std::string python;
  bool no_python = false;
  std::string script = std::string(NALU_BENCH_SOURCE_DIR) + "/pytorch_step.py";
  std::string json;
  std::string commit;
  bool quick = false;
  bool parts = false;
};

// ---- shell helpers -------------------------------------------------------------------------

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

// Runs `command` through the shell; its stdout, and whether it exited 0.
std::pair<std::string, bool> capture(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr)
    return {"", false};
  std::string output;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {output, status == 0};
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  return text;
}

// The first interpreter that can import torch: /usr/bin/python3 (Debian's python3-torch), then
// python3 and python on PATH. Empty when none can.
std::string find_python() {
  for (const char* candidate : {"/usr/bin/python3", "python3", "python"}) {
    const auto [out, ok] =
        capture(shell_quote(candidate) + " -c 'import torch' >/dev/null 2>&1 && echo yes");
    if (ok && trim(out) == "yes")
      return candidate;
  }
  return "";
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos)
        return trim(line.substr(line.find_first_not_of(" \t", colon + 1)));
    }
  }
  return "unknown";
}

// /proc/loadavg's 1-minute figure, or "unknown".
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  return in >> one ? one : "unknown";
}

std::string git_commit() {
  const std::string dir = shell_quote(NALU_BENCH_SOURCE_DIR);
  const auto [hash, ok] = capture("git -C " + dir + " rev-parse --short HEAD 2>/dev/null");
  if (!ok || trim(hash).empty())
    return "unknown";
  const auto [changes, ok2] =
      capture("git -C " + dir + " status --porcelain --untracked-files=no 2>/dev/null");
  return trim(hash) + (ok2 && !trim(changes).empty() ? " (working tree modified)" : "");
}

// ---- formatting ----------------------------------------------------------------------------

std::string fmt_us(double us) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, us >= 100 ? "%.0f" : (us >= 10 ? "%.1f" : "%.2f"), us);
  return buffer;
}

std::string fmt_ratio(double ratio) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, ratio >= 100 ? "%.0f×" : (ratio >= 10 ? "%.1f×" : "%.2f×"),
                ratio);
  return buffer;
}

std::string show(const Cell& cell, bool cpu) {
  if (const auto m = cell.median(cpu))
    return fmt_us(*m);
  return cell.unavailable.empty() ? "-" : cell.unavailable;
}

// slow / fast, from their medians; none where either is missing.
std::optional<double> cell_ratio(const Cell& slow, const Cell& fast, bool cpu = false) {
  const auto s = slow.median(cpu);
  const auto f = fast.median(cpu);
  if (s && f)
    return *s / *f;
  return std::nullopt;
}

std::string show_ratio(const Cell& slow, const Cell& fast, bool cpu) {
  const auto ratio = cell_ratio(slow, fast, cpu);
  return ratio ? fmt_ratio(*ratio) : "-";
}

// ---- measurements --------------------------------------------------------------------------

nalu::RunConfig make_case_config(int64_t input_size, const std::vector<std::string>& units,
                                 int64_t batch, nalu::Operation op, int64_t eval_size) {
  nalu::RunConfig config;  // task "static": U[1,2) -> U[2,6), subsets 25% overlapping by half
  config.task = "static";
  config.task_options.op = op;
  config.task_options.input_size = input_size;
  config.task_options.evaluation_size = eval_size;
  config.model.units = units;
  config.model.hidden = {2};
  config.optimizer.name = "adam";
  config.optimizer.learning_rate = 1e-3;
  config.training.batch_size = batch;
  return config;
}

struct Timing {
  double wall_us = 0.0;  // per step, from TrainResult::wall_seconds
  double cpu_us = 0.0;   // per step, the thread's CPU time between the first and last evaluation
};

// Runs `config` for `steps` steps on `engine` from seed `seed`, with evaluation only at steps 0
// and `steps`. Wall time per step comes from the run's own clock (setup excluded); CPU time is
// read at the two evaluations' progress events, so it also excludes setup and is robust to other
// processes taking turns on the core. A run that diverges is retried from another seed (up to 3
// times); `note` says so.
std::optional<Timing> time_engine(nalu::RunConfig config, const std::string& engine, int64_t steps,
                                  uint64_t seed, std::string& note) {
  config.engine = engine;
  config.training.iterations = steps;
  config.training.eval_interval = steps;
  for (int attempt = 0; attempt < 3; ++attempt) {
    config.seed = seed + 1000 * static_cast<uint64_t>(attempt);
    try {
      double cpu_first = NAN, cpu_last = NAN;
      const auto on_progress = [&](const nalu::ProgressEvent& event) {
        if (event.evaluation == nullptr)
          return;
        (event.step == 0 ? cpu_first : cpu_last) = thread_cpu_seconds();
      };
      const nalu::TrainResult result = nalu::run(config, on_progress);
      const auto n = static_cast<double>(result.iterations);
      return Timing{result.wall_seconds * 1e6 / n, (cpu_last - cpu_first) * 1e6 / n};
    } catch (const nalu::NumericalError& e) {
      note = "seed " + std::to_string(config.seed) + " diverged (" + first_line(e.what()) +
             "), retried";
    }
  }
  return std::nullopt;
}

void measure_engine(const Case& c, Cell& cell, const std::string& engine, int64_t steps,
                    uint64_t seed) {
  if (!cell.unavailable.empty())
    return;
  std::string note;
  if (const auto timing = time_engine(c.config, engine, steps, seed, note)) {
    cell.samples.push_back(timing->wall_us);
    cell.cpu_samples.push_back(timing->cpu_us);
  } else {
    cell.unavailable = "diverged";
  }
  if (!note.empty())
    cell.notes.push_back(note);
}

void measure_python(const Flags& flags, const std::string& python, Case& c, uint64_t seed) {
  if (!c.pytorch.unavailable.empty())
    return;
  const std::string op = nalu::operation_name(c.config.task_options.op);
  const std::string command = shell_quote(python) + " " + shell_quote(flags.script) + " --case " +
                              c.id + " --steps " + std::to_string(flags.python_steps) +
                              " --warmup " +
                              std::to_string(std::min<int64_t>(50, flags.python_steps)) +
                              " --seed " + std::to_string(seed) + " --threads 1" +
                              (c.id == "a" ? " --op " : " --nalu-op ") + op + " 2>&1";
  const auto [output, ok] = capture(command);
  const std::string text = trim(output);
  const std::string last =
      text.substr(text.find_last_of('\n') == std::string::npos ? 0 : text.find_last_of('\n') + 1);
  try {
    if (!ok)
      throw std::runtime_error(last.empty() ? "no output" : last);
    const auto parsed = nlohmann::json::parse(last);
    const auto& figures = parsed.at("cases").at(c.id);
    c.pytorch.samples.push_back(figures.at("us_per_step").get<double>());
    c.pytorch.cpu_samples.push_back(figures.at("cpu_us_per_step").get<double>());
  } catch (const std::exception& e) {
    c.pytorch.unavailable = "failed";
    c.pytorch.notes.push_back("pytorch_step.py failed: " + first_line(e.what()));
  }
}

struct Scaling {
  std::vector<double> one, two;              // total steps/s per repetition
  std::vector<double> one_cores, two_cores;  // process CPU time / wall time per repetition
  std::string unavailable;
};

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Trains seeds [first, last) of `config` one after another on the fused engine.
void train_seeds(const nalu::RunConfig& config, uint64_t first, uint64_t last) {
  for (uint64_t seed = first; seed < last; ++seed) {
    nalu::RunConfig c = config;
    c.seed = seed;
    (void)nalu::run(c);
  }
}

// Total steps/s of K seeds on `threads` threads (1 or 2), each thread training its share in turn,
// and the cores the process kept busy meanwhile (CPU time / wall time).
std::pair<double, double> throughput(const nalu::RunConfig& config, int64_t seeds, int threads) {
  const double cpu_start = process_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const auto k = static_cast<uint64_t>(seeds);
  if (threads == 1) {
    train_seeds(config, 1, 1 + k);
  } else {
    const uint64_t half = k / 2;
    std::exception_ptr failure;
    std::thread other([&] {
      try {
        train_seeds(config, 1 + half, 1 + k);
      } catch (...) {
        failure = std::current_exception();
      }
    });
    try {
      train_seeds(config, 1, 1 + half);
    } catch (...) {
      other.join();
      throw;
    }
    other.join();
    if (failure)
      std::rethrow_exception(failure);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {static_cast<double>(seeds * config.training.iterations) / seconds,
          (process_cpu_seconds() - cpu_start) / seconds};
}

nlohmann::json cell_json(const Cell& cell, int64_t steps) {
  nlohmann::json j;
  j["steps"] = steps;
  j["samples_us_per_step"] = cell.samples;
  j["samples_cpu_us_per_step"] = cell.cpu_samples;
  const auto wall = cell.median(false);
  const auto cpu = cell.median(true);
  j["us_per_step"] = wall ? nlohmann::json(*wall) : nlohmann::json(nullptr);
  j["cpu_us_per_step"] = cpu ? nlohmann::json(*cpu) : nlohmann::json(nullptr);
  if (!cell.unavailable.empty())
    j["unavailable"] = cell.unavailable;
  if (!cell.notes.empty())
    j["notes"] = cell.notes;
  return j;
}

// The --parts table of each case: CPU µs per step of each part (a part marked "↳" is a share of
// the one above it), their sum against the whole step measured above, and for (a) the time per
// step that 100× the torch engine allows.
void print_parts(const std::vector<Case>& cases, const Flags& flags,
                 const nalu_bench::FmaPeak& peak) {
  std::printf(
      "\nparts of a fused step, each run %lld times on its own (CPU µs per step, median of "
      "%lld; a part marked ↳ is within the part above):\n",
      static_cast<long long>(flags.fused_steps), static_cast<long long>(flags.repeats));
  for (const auto& c : cases) {
    if (!c.selected || c.parts.empty())
      continue;
    double sum = 0.0;
    for (const auto& part : c.parts) {
      if (!part.within)
        sum += part.cpu_us;
    }
    std::printf("\n%s\n\n| part | what runs | µs/step | share of the sum |\n|---|---|---:|---:|\n",
                c.title.c_str());
    for (const auto& part : c.parts) {
      std::printf("| %s%s | %s | %s | %.0f%% |\n", part.within ? "↳ " : "", part.name.c_str(),
                  part.detail.c_str(), fmt_us(part.cpu_us).c_str(), 100.0 * part.cpu_us / sum);
    }
    std::printf("| sum of the parts | | %s | 100%% |\n", fmt_us(sum).c_str());
    if (const auto step = c.fused.median(true))
      std::printf("| whole step (fused, CPU time, above) | | %s | %.0f%% |\n",
                  fmt_us(*step).c_str(), 100.0 * *step / sum);
    if (const auto torch = c.torch.median(true); torch && c.id == "a")
      std::printf("budget: 100× the torch engine's %s µs leaves %s µs per step\n",
                  fmt_us(*torch).c_str(), fmt_us(*torch / 100.0).c_str());
    for (const auto& part : c.parts) {
      if (part.multiply_adds > 0.0 && peak.lanes8_per_ns > 0.0) {
        const double floor_us = part.multiply_adds / peak.lanes8_per_ns / 1e3;
        std::printf(
            "%s: %.0f multiply-adds per step counted in 8-lane vectors take %s µs at this core's "
            "8-lane FMA peak: %.0f%% of the part's time (above 100%% where the AVX-512F weight "
            "gradient runs them 16 lanes wide)\n",
            part.name.c_str(), part.multiply_adds, fmt_us(floor_us).c_str(),
            100.0 * floor_us / part.cpu_us);
      }
    }
  }
  const auto rate = [](double v) {
    return v > 0.0 ? fmt_us(v) + " multiply-adds per ns" : std::string("not available");
  };
  std::printf(
      "FMA peak of one core (%lld rounds of 24 independent FMA chains, thread CPU time, median): "
      "8 lanes (AVX2) %s; 16 lanes (AVX-512F) %s\n",
      static_cast<long long>(kFmaPeakRounds), rate(peak.lanes8_per_ns).c_str(),
      rate(peak.lanes16_per_ns).c_str());
}

// The three cases of the report: (a) the field's task, (b) and (c) NALU on --nalu-op. Case (a)
// is kept (unselected) when --cases leaves it out, since the scaling figures refer to it.
std::vector<Case> make_cases(const Flags& flags) {
  const nalu::Operation nalu_op = nalu::parse_operation(flags.nalu_op);
  const std::string sym = nalu::operation_symbol(nalu_op);
  std::string unit = flags.nalu_unit;
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  std::vector<Case> cases(3);
  cases[0].id = "a";
  cases[0].title = "(a) static " + nalu::operation_symbol(nalu::Operation::kMul) +
                   ", 100→2→1 NAU→NMU, batch 128";
  cases[0].config =
      make_case_config(100, {"nau", "nmu"}, 128, nalu::Operation::kMul, flags.eval_size);
  cases[1].id = "b";
  cases[1].title = "(b) static " + sym + ", 10→2→1 " + unit + ", batch 64";
  cases[1].config = make_case_config(10, {flags.nalu_unit}, 64, nalu_op, flags.eval_size);
  cases[2].id = "c";
  cases[2].title = "(c) static " + sym + ", 100→2→1 " + unit + ", batch 128";
  cases[2].config = make_case_config(100, {flags.nalu_unit}, 128, nalu_op, flags.eval_size);
  for (auto& c : cases)
    c.selected = std::find(flags.cases.begin(), flags.cases.end(), c.id) != flags.cases.end();
  std::erase_if(cases, [](const Case& c) { return !c.selected && c.id != "a"; });
  return cases;
}

// The Python that runs the PyTorch side ("" for none), after checking one given by --python.
std::string choose_python(const Flags& flags) {
  if (flags.no_python)
    return "";
  if (flags.python.empty())
    return find_python();
  const auto [out, ok] =
      capture(shell_quote(flags.python) + " -c 'import torch' >/dev/null 2>&1 && echo yes");
  if (!ok || trim(out) != "yes")
    throw nalu::Error("--python " + flags.python + " cannot import torch");
  return flags.python;
}

// Marks the cells no engine can fill: the fused engine where it does not apply, PyTorch where
// it is skipped or missing.
void mark_unavailable(std::vector<Case>& cases, const Flags& flags, const std::string& python) {
  for (auto& c : cases) {
    c.config.validate();
    const std::string why = nalu::fused::unsupported_reason(c.config);
    if (!why.empty())
      c.fused.unavailable = "n/a (" + why + ")";
    if (flags.no_python)
      c.pytorch.unavailable = "skipped";
    else if (python.empty())
      c.pytorch.unavailable = "not installed";
  }
}

// A warm-up run of each engine on each case, then --repeats rounds with the engines interleaved.
void measure_engines(std::vector<Case>& cases, const Flags& flags, const std::string& python) {
  // Warm-up: page faults, lazy initialisation.
  for (auto& c : cases) {
    if (!c.selected)
      continue;
    std::string ignored;
    if (c.fused.unavailable.empty())
      (void)time_engine(c.config, "fused", std::min<int64_t>(200, flags.fused_steps), 1, ignored);
    (void)time_engine(c.config, "torch", std::min<int64_t>(20, flags.torch_steps), 1, ignored);
  }
  for (int64_t rep = 0; rep < flags.repeats; ++rep) {
    const auto seed = static_cast<uint64_t>(rep + 1);
    for (auto& c : cases) {
      if (!c.selected)
        continue;
      measure_engine(c, c.fused, "fused", flags.fused_steps, seed);
      measure_engine(c, c.torch, "torch", flags.torch_steps, seed);
      if (!python.empty())
        measure_python(flags, python, c, seed);
      std::fprintf(stderr, "  repetition %lld/%lld, case %s: fused %s, torch %s, PyTorch %s\n",
                   static_cast<long long>(rep + 1), static_cast<long long>(flags.repeats),
                   c.id.c_str(),
                   c.fused.samples.empty() ? "-" : fmt_us(c.fused.samples.back()).c_str(),
                   c.torch.samples.empty() ? "-" : fmt_us(c.torch.samples.back()).c_str(),
                   c.pytorch.samples.empty() ? "-" : fmt_us(c.pytorch.samples.back()).c_str());
    }
  }
}

// --parts: each part of the fused step on its own, fused-steps times, per repetition; keeps
// the median of each part.
// Also measures the core's FMA peak once per repetition (medians returned).
nalu_bench::FmaPeak measure_parts(std::vector<Case>& cases, const Flags& flags) {
  std::vector<double> lanes8, lanes16;
  for (int64_t rep = 0; rep < flags.repeats; ++rep) {
    const nalu_bench::FmaPeak peak = nalu_bench::measure_fma_peak(kFmaPeakRounds);
    lanes8.push_back(peak.lanes8_per_ns);
    lanes16.push_back(peak.lanes16_per_ns);
    for (auto& c : cases) {
      if (!c.selected || !c.fused.unavailable.empty())
        continue;
      const auto parts = nalu_bench::time_parts(c.config, flags.fused_steps);
      if (c.parts.empty()) {
        c.parts = parts;
        c.part_samples.resize(parts.size());
      }
      for (size_t k = 0; k < parts.size(); ++k)
        c.part_samples[k].push_back(parts[k].cpu_us);
    }
    std::fprintf(stderr, "  parts: repetition %lld/%lld\n", static_cast<long long>(rep + 1),
                 static_cast<long long>(flags.repeats));
  }
  for (auto& c : cases) {
    for (size_t k = 0; k < c.parts.size(); ++k)
      c.parts[k].cpu_us = median_of(c.part_samples[k]);
  }
  return {median_of(lanes8), median_of(lanes16)};
}

// Throughput scaling of the fused engine on (a): K seeds on 1 thread, then on 2.
Scaling measure_scaling(const Case& a, const Flags& flags) {
  Scaling scaling;
  nalu::RunConfig config = a.config;
  config.engine = "fused";
  config.training.iterations = flags.scaling_steps;
  config.training.eval_interval = flags.scaling_steps;
  if (!a.selected) {
    scaling.unavailable = "not run (case a not in --cases)";
    return scaling;
  }
  if (!a.fused.unavailable.empty()) {
    scaling.unavailable = a.fused.unavailable;
    return scaling;
  }
  try {
    for (int64_t rep = 0; rep < flags.repeats; ++rep) {
      const auto [one, one_cores] = throughput(config, flags.scaling_seeds, 1);
      const auto [two, two_cores] = throughput(config, flags.scaling_seeds, 2);
      scaling.one.push_back(one);
      scaling.one_cores.push_back(one_cores);
      scaling.two.push_back(two);
      scaling.two_cores.push_back(two_cores);
    }
  } catch (const nalu::NumericalError& e) {
    scaling.unavailable = "diverged: " + first_line(e.what());
  }
  return scaling;
}

// The two tables of µs per step (wall clock, then CPU time) and the cells' notes.
void print_step_tables(const std::vector<Case>& cases) {
  for (const bool cpu : {false, true}) {
    std::printf(cpu ? "\nCPU time of the training thread per step (µs; robust to other load on the "
                      "machine, same columns):\n"
                    : "\nwall-clock time per step (µs):\n");
    std::printf(
        "\n| case | fused µs/step | torch µs/step | PyTorch µs/step | torch/fused | "
        "PyTorch/fused |\n|---|---:|---:|---:|---:|---:|\n");
    for (const auto& c : cases) {
      if (!c.selected)
        continue;
      std::printf("| %s | %s | %s | %s | %s | %s |\n", c.title.c_str(), show(c.fused, cpu).c_str(),
                  show(c.torch, cpu).c_str(), show(c.pytorch, cpu).c_str(),
                  show_ratio(c.torch, c.fused, cpu).c_str(),
                  show_ratio(c.pytorch, c.fused, cpu).c_str());
    }
  }
  for (const auto& c : cases) {
    for (const Cell* cell : {&c.fused, &c.torch, &c.pytorch}) {
      for (const auto& note : cell->notes)
        std::printf("note (%s): %s\n", c.id.c_str(), note.c_str());
    }
  }
}

// The medians of the scaling measurement.
struct ScalingSummary {
  std::optional<double> one, two;  // steps per second on 1 and on 2 threads
  double cpu_estimate = NAN;       // the 2-core ratio estimated from CPU time
};

ScalingSummary print_scaling(const Scaling& scaling, const Flags& flags, unsigned cores) {
  ScalingSummary summary;
  if (!scaling.unavailable.empty()) {
    std::printf("\nfused throughput on (a): %s\n", scaling.unavailable.c_str());
    return summary;
  }
  summary.one = median_of(scaling.one);
  summary.two = median_of(scaling.two);
  std::printf("\nfused throughput on (a), %lld seeds x %lld steps (median of %lld):\n",
              static_cast<long long>(flags.scaling_seeds),
              static_cast<long long>(flags.scaling_steps), static_cast<long long>(flags.repeats));
  std::printf("  1 thread:  %.0f steps/s (process kept %.2f cores busy)\n", *summary.one,
              median_of(scaling.one_cores));
  std::printf("  2 threads: %.0f steps/s (process kept %.2f cores busy)\n", *summary.two,
              median_of(scaling.two_cores));
  std::printf("  2/1: %.2f×%s\n", *summary.two / *summary.one,
              cores < 2 ? " (this machine has fewer than 2 cores)" : "");
  // Steps per CPU-second: what each thread achieves while it runs. Where other processes keep
  // the cores busy, 2 x (2-thread figure) / (1-thread figure) estimates the ratio two free
  // cores would give (it drops below 2 for contention: shared caches, locks, allocation).
  const double e1 = median_of(scaling.one) / median_of(scaling.one_cores);
  const double e2 = median_of(scaling.two) / median_of(scaling.two_cores);
  summary.cpu_estimate = 2.0 * e2 / e1;
  std::printf(
      "  steps per CPU-second: 1 thread %.0f, 2 threads %.0f; estimate for two free "
      "cores: 2 × %.0f / %.0f = %.2f×\n",
      e1, e2, e2, e1, summary.cpu_estimate);
  return summary;
}

// The goals, both by wall clock and by CPU time.
void print_goals(const Case& a, const ScalingSummary& summary) {
  const auto goal = [](double value, double target) {  // NaN: not measured
    if (std::isnan(value))
      return std::string("not measured");
    return std::string(value >= target ? "met" : "NOT met") + " (" + fmt_ratio(value) + ")";
  };
  const double scale_ratio = summary.one && summary.two ? *summary.two / *summary.one : NAN;
  std::printf(
      "\ngoals (wall clock): (a) torch/fused >= 100×: %s; (a) PyTorch/fused >= 200×: %s; "
      "2-core/1-core throughput >= 1.8×: %s\n",
      goal(cell_ratio(a.torch, a.fused).value_or(NAN), 100).c_str(),
      goal(cell_ratio(a.pytorch, a.fused).value_or(NAN), 200).c_str(),
      goal(scale_ratio, 1.8).c_str());
  std::printf(
      "goals (CPU time):   (a) torch/fused >= 100×: %s; (a) PyTorch/fused >= 200×: %s; "
      "2-core estimate >= 1.8×: %s\n",
      goal(cell_ratio(a.torch, a.fused, true).value_or(NAN), 100).c_str(),
      goal(cell_ratio(a.pytorch, a.fused, true).value_or(NAN), 200).c_str(),
      goal(summary.cpu_estimate, 1.8).c_str());
}

// What the machine and the run were, for the record.
struct RunInfo {
  std::string commit, python, load_before, load_after;
  unsigned cores = 0;
  std::optional<nalu_bench::FmaPeak> fma_peak;  // with --parts
};

// The --json report.
nlohmann::json report_json(const std::vector<Case>& cases, const Scaling& scaling,
                           const ScalingSummary& summary, const Flags& flags, const RunInfo& run) {
  nlohmann::json j;
  j["commit"] = run.commit;
  j["cpu"] = cpu_model();
  j["cores"] = run.cores;
  j["load_average_start"] = run.load_before;
  j["load_average_end"] = run.load_after;
  j["instruction_set"] = nalu::fused::instruction_set();
  j["torch_threads"] = 1;
  if (run.fma_peak) {
    const auto per_ns = [](double v) { return v > 0.0 ? nlohmann::json(v) : nlohmann::json(); };
    j["fma_peak_multiply_adds_per_ns"] = {{"lanes8", per_ns(run.fma_peak->lanes8_per_ns)},
                                          {"lanes16", per_ns(run.fma_peak->lanes16_per_ns)}};
  }
  j["repeats"] = flags.repeats;
  j["quick"] = flags.quick;
  j["python"] = run.python.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.python);
  j["cases"] = nlohmann::json::array();
  const auto as_json = [](std::optional<double> v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  for (const auto& c : cases) {
    if (!c.selected)
      continue;
    nlohmann::json cj;
    cj["id"] = c.id;
    cj["title"] = c.title;
    cj["op"] = nalu::operation_name(c.config.task_options.op);
    cj["input_size"] = c.config.task_options.input_size;
    cj["units"] = c.config.model.units;
    cj["batch_size"] = c.config.training.batch_size;
    cj["fused"] = cell_json(c.fused, flags.fused_steps);
    cj["torch"] = cell_json(c.torch, flags.torch_steps);
    cj["pytorch"] = cell_json(c.pytorch, flags.python_steps);
    cj["torch_over_fused"] = as_json(cell_ratio(c.torch, c.fused));
    cj["pytorch_over_fused"] = as_json(cell_ratio(c.pytorch, c.fused));
    cj["cpu_torch_over_fused"] = as_json(cell_ratio(c.torch, c.fused, true));
    cj["cpu_pytorch_over_fused"] = as_json(cell_ratio(c.pytorch, c.fused, true));
    if (!c.parts.empty()) {
      cj["parts"] = nlohmann::json::array();
      for (size_t k = 0; k < c.parts.size(); ++k) {
        cj["parts"].push_back({{"name", c.parts[k].name},
                               {"within_previous", c.parts[k].within},
                               {"detail", c.parts[k].detail},
                               {"cpu_us_per_step", c.parts[k].cpu_us},
                               {"multiply_adds_per_step", c.parts[k].multiply_adds},
                               {"samples_cpu_us_per_step", c.part_samples[k]}});
      }
    }
    j["cases"].push_back(cj);
  }
  nlohmann::json sj;
  sj["case"] = "a";
  sj["seeds"] = flags.scaling_seeds;
  sj["steps"] = flags.scaling_steps;
  sj["one_thread_steps_per_second"] = scaling.one;
  sj["two_threads_steps_per_second"] = scaling.two;
  sj["one_thread_cores_busy"] = scaling.one_cores;
  sj["two_threads_cores_busy"] = scaling.two_cores;
  if (summary.one && summary.two) {
    sj["one_thread_median"] = *summary.one;
    sj["two_threads_median"] = *summary.two;
    sj["ratio"] = *summary.two / *summary.one;
    sj["cpu_time_estimate_ratio"] = summary.cpu_estimate;
  }
  if (!scaling.unavailable.empty())
    sj["unavailable"] = scaling.unavailable;
  j["scaling"] = sj;
  return j;
}

int run_bench(Flags flags) {
  if (flags.quick) {
    flags.fused_steps = 1'000;
    flags.torch_steps = 50;
    flags.python_steps = 50;
    flags.repeats = 1;
    flags.scaling_steps = 1'000;
  }
  torch::set_num_threads(1);
  std::vector<Case> cases = make_cases(flags);
  RunInfo run;
  run.python = choose_python(flags);
  mark_unavailable(cases, flags, run.python);

  run.commit = flags.commit.empty() ? git_commit() : flags.commit;
  run.cores = std::thread::hardware_concurrency();
  std::printf("nalu_bench_engines: commit %s, %s, %u cores, fused kernels %s\n", run.commit.c_str(),
              cpu_model().c_str(), run.cores, nalu::fused::instruction_set().c_str());
  std::printf(
      "steps per measurement: fused %lld, torch %lld, PyTorch %lld; median of %lld "
      "(engines interleaved); one intra-op thread each%s\n",
      static_cast<long long>(flags.fused_steps), static_cast<long long>(flags.torch_steps),
      static_cast<long long>(flags.python_steps), static_cast<long long>(flags.repeats),
      run.python.empty() ? "" : (", PyTorch via " + run.python).c_str());
  run.load_before = load_average();
  std::fflush(stdout);

  measure_engines(cases, flags, run.python);
  if (flags.parts)
    run.fma_peak = measure_parts(cases, flags);
  const Scaling scaling = measure_scaling(cases[0], flags);

  print_step_tables(cases);
  if (flags.parts)
    print_parts(cases, flags, *run.fma_peak);
  const ScalingSummary summary = print_scaling(scaling, flags, run.cores);
  print_goals(cases[0], summary);
  std::printf(
      "machine: %s, %u cores; fused kernels: %s; torch intra-op threads: 1 "
      "(torch::set_num_threads(1), PyTorch torch.set_num_threads(1)); commit %s\n",
      cpu_model().c_str(), run.cores, nalu::fused::instruction_set().c_str(), run.commit.c_str());
  std::printf(
      "setup: eval sets of %lld rows evaluated at step 0 and the last step only; "
      "Adam lr 1e-3; (b), (c) use op %s\n",
      static_cast<long long>(flags.eval_size), flags.nalu_op.c_str());
  run.load_after = load_average();
  std::printf(
      "load average (1 min): %s at start, %s at end (other processes share these cores; "
      "above the core count, wall-clock figures are inflated)\n",
      run.load_before.c_str(), run.load_after.c_str());

  if (!flags.json.empty()) {
    nalu::write_file_atomically(flags.json,
                                report_json(cases, scaling, summary, flags, run).dump(2) + "\n");
    std::printf("json: %s\n", flags.json.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const CLI::Validator positive(
      [](std::string& text) {
        try {
          size_t used = 0;
          if (std::stoll(text, &used) >= 1 && used == text.size())
            return std::string();
        } catch (const std::exception&) {
        }
        return "expected a positive integer, got '" + text + "'";
      },
      "POSITIVE");
  CLI::App app{
      "nalu_bench_engines: µs per training step of the fused engine, the torch engine "
      "and plain PyTorch, side by side"};
  Flags flags;
  app.add_option("--fused-steps", flags.fused_steps, "Steps per fused-engine measurement")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--torch-steps", flags.torch_steps, "Steps per torch-engine measurement")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--python-steps", flags.python_steps, "Steps per PyTorch measurement")
      ->check(positive)
      ->capture_default_str();
  app.add_option("-r,--repeats", flags.repeats, "Repetitions; the median is reported")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--scaling-seeds", flags.scaling_seeds,
                 "Seeds trained for the 1- vs 2-thread throughput")
      ->check(CLI::Range(int64_t{2}, int64_t{1'000}))
      ->capture_default_str();
  app.add_option("--scaling-steps", flags.scaling_steps, "Steps per seed in the throughput runs")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--eval-size", flags.eval_size, "Rows of each evaluation set")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--cases", flags.cases, "Cases to run, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"a", "b", "c"}))
      ->capture_default_str();
  app.add_option("--nalu-op", flags.nalu_op, "Operation of cases (b) and (c)")
      ->check(CLI::IsMember(nalu::operation_names()))
      ->capture_default_str();
  app.add_option("--nalu-unit", flags.nalu_unit,
                 "Unit of cases (b) and (c), both layers (other than nalu: with --no-python)")
      ->check(CLI::IsMember(nalu::unit_names()))
      ->capture_default_str();
  auto* python = app.add_option("--python", flags.python,
                                "Python interpreter with torch (default: auto-detect)");
  app.add_flag("--no-python", flags.no_python, "Skip the PyTorch column")->excludes(python);
  app.add_option("--script", flags.script, "The PyTorch script")->capture_default_str();
  app.add_option("--json", flags.json, "Also write every figure to this JSON file");
  app.add_option("--commit", flags.commit, "Commit to report (default: git rev-parse)");
  app.add_flag(
      "--parts", flags.parts,
      "Also time each part of a fused step on its own (fused-steps times, per repetition) and "
      "the core's FMA peak at 8 and 16 lanes");
  app.add_flag(
      "--quick", flags.quick,
      "Tiny step counts and one repetition (overrides the step and repeat flags): a smoke check");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "nalu_bench_engines: error: %s (see --help)\n",
                 first_line(e.what()).c_str());
    return kExitBadInput;
  }

  if (flags.nalu_unit != "nalu" && !flags.no_python) {
    std::fprintf(stderr,
                 "nalu_bench_engines: error: --nalu-unit %s needs --no-python (the PyTorch script "
                 "has the NALU cases only)\n",
                 flags.nalu_unit.c_str());
    return kExitBadInput;
  }

  try {
    return run_bench(flags);
  } catch (const nalu::NumericalError& e) {
    std::fprintf(stderr, "nalu_bench_engines: error: %s\n", first_line(e.what()).c_str());
    return kExitFailure;
  } catch (const nalu::Error& e) {
    std::fprintf(stderr, "nalu_bench_engines: error: %s\n", first_line(e.what()).c_str());
    return kExitBadInput;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "nalu_bench_engines: error: %s\n",
                 first_line(e.what_without_backtrace()).c_str());
    return kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nalu_bench_engines: error: %s\n", first_line(e.what()).c_str());
    return kExitFailure;
  }
}
