// nalu: the command-line tool. A thin layer over the library: it parses arguments, shows
// progress, writes records and turns errors into one line and a non-zero exit code. main.cpp
// calls nalu::cli::run; the tests call it in-process.
#include <c10/util/Exception.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "bench_command.h"
#include "cli.h"
#include "eval_command.h"
#include "experiment_command.h"
#include "fit_command.h"
#include "format.h"
#include "formula_output.h"
#include "interrupt.h"
#include "nalu/io/files.h"
#include "nalu/nalu.h"
#include "numbers.h"
#include "progress.h"
#include "recurrent_command.h"
#include "report_command.h"
#include "train_command.h"
#include "words_command.h"

namespace {

// Exit codes: 0 success, 1 the run failed (diverged, I/O), 2 bad input.
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// What ran out, in one line, for an allocation that failed despite the memory checks (the
// estimates are not exact, and other processes use memory too).
std::string out_of_memory(const std::string& detail) {
  return "out of memory" + detail + " (the machine has " +
         nalu::format_bytes(static_cast<double>(nalu::machine_memory_bytes())) +
         "); lower the batch size, the evaluation size, the sequence lengths or the layer sizes";
}

// LibTorch's allocator message ("... you tried to allocate 399999999999600 bytes. Error code 12
// ..."): the bytes, or "" when the message is about something else.
std::string torch_allocation(const std::string& message) {
  if (message.find("can't allocate memory") == std::string::npos &&
      message.find("DefaultCPUAllocator") == std::string::npos)
    return "";
  const std::string marker = "tried to allocate ";
  const auto at = message.find(marker);
  if (at == std::string::npos)
    return ": LibTorch could not allocate a tensor";
  const double bytes = std::strtod(message.c_str() + at + marker.size(), nullptr);
  return ": LibTorch could not allocate " + nalu::format_bytes(bytes) + " for a tensor";
}

int run_units() {
  for (const auto& unit : nalu::unit_catalog()) {
    std::printf("%-9s %s\n          %s\n          (%s)\n", unit.name.c_str(), unit.title.c_str(),
                unit.formula.c_str(), unit.source.c_str());
    std::string details = "engines: " + nalu::unit_engines(unit);
    if (!unit.settings.empty())
      details += "; settings: --" + nalu::join(unit.settings, ", --");
    if (!unit.partner.empty())
      details += "; named alone, follows a " + unit.partner + " layer";
    std::printf("          %s\n", details.c_str());
  }
  return 0;
}

}  // namespace

int nalu::cli::run(int argc, const char* const* argv) {
  nalu::cli::reset_stop_request();
  CLI::App app{"nalu: neural arithmetic units (NAC, NALU, NAU, NMU, iNALU, NPU) for LibTorch"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("nalu ") + nalu::kVersion);
  app.add_subcommand("units", "List the units with their formulas and sources");
  nalu::cli::TrainFlags train_flags;
  nalu::cli::add_train_command(app, train_flags);
  nalu::cli::BenchFlags bench_flags;
  CLI::App* bench = nalu::cli::add_bench_command(app, bench_flags);
  nalu::cli::RecurrentFlags recurrent_flags;
  CLI::App* recurrent = nalu::cli::add_recurrent_command(app, recurrent_flags);
  nalu::cli::EvalFlags eval_flags;
  CLI::App* eval = nalu::cli::add_eval_command(app, eval_flags);
  nalu::cli::ExperimentFlags experiment_flags;
  CLI::App* experiment = nalu::cli::add_experiment_command(app, experiment_flags);
  nalu::cli::FitFlags fit_flags;
  CLI::App* fit = nalu::cli::add_fit_command(app, fit_flags);
  nalu::cli::ReportFlags report_flags;
  CLI::App* report = nalu::cli::add_report_command(app, report_flags);
  nalu::cli::WordsFlags words_flags;
  CLI::App* words = nalu::cli::add_words_command(app, words_flags);
  nalu::cli::add_number_checks(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "nalu: error: %s (see 'nalu --help')\n", first_line(e.what()).c_str());
    return kExitBadInput;
  }

  try {
    if (app.got_subcommand("units"))
      return run_units();
    if (app.got_subcommand(bench))
      return nalu::cli::run_bench_command(*bench, bench_flags);
    if (app.got_subcommand(recurrent))
      return nalu::cli::run_recurrent_command(recurrent_flags);
    if (app.got_subcommand(eval))
      return nalu::cli::run_eval_command(eval_flags);
    if (app.got_subcommand(experiment))
      return nalu::cli::run_experiment_command(experiment_flags);
    if (app.got_subcommand(fit))
      return nalu::cli::run_fit_command(fit_flags);
    if (app.got_subcommand(report))
      return nalu::cli::run_report_command(report_flags);
    if (app.got_subcommand(words))
      return nalu::cli::run_words_command(words_flags);
    return nalu::cli::run_train_command(train_flags);
  } catch (const nalu::Interrupted& e) {
    std::fprintf(stderr, "nalu: %s%s\n", first_line(e.what()).c_str(),
                 e.checkpoint().empty() ? "" : " (add --resume to continue)");
    return nalu::cli::stop_exit_code();
  } catch (const nalu::NumericalError& e) {
    std::fprintf(stderr, "nalu: error: %s\n", first_line(e.what()).c_str());
    return kExitFailure;
  } catch (const nalu::Error& e) {
    std::fprintf(stderr, "nalu: error: %s\n", first_line(e.what()).c_str());
    return kExitBadInput;
  } catch (const c10::Error& e) {
    const std::string allocation = torch_allocation(e.what_without_backtrace());
    std::fprintf(stderr, "nalu: error: %s\n",
                 allocation.empty() ? first_line(e.what_without_backtrace()).c_str()
                                    : out_of_memory(allocation).c_str());
    return kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "nalu: error: %s\n", out_of_memory("").c_str());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nalu: error: %s\n", first_line(e.what()).c_str());
    return kExitFailure;
  }
}
