// The papers' experiments as named runs (`nalu experiment NAME`): each experiment lives in its
// own source file and is listed once in experiment_catalog() (src/experiments/registry.cpp),
// so adding one is one new file and one catalogue line. An experiment trains what it needs,
// writes its files (tables, plots, raw records) into one output directory and returns a report;
// it never prints: progress goes through a callback. LibTorch-free, so a CLI can list the
// experiments cheaply.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nalu {

/// Settings every experiment takes.
struct ExperimentOptions {
  /// The reduced size (a few minutes on 2 cores, used by tests and docs) instead of the
  /// paper's.
  bool quick = false;
  /// Drives every random choice of the experiment: same seed and options, same numbers.
  uint64_t seed = 0;
  /// Directory for the experiment's files, created when missing. Empty:
  /// default_output_dir(name), i.e. "results/NAME" under the current directory.
  std::string output_dir;
  /// Models trained side by side; 0: one per core.
  int64_t threads = 0;
};

/// Progress of a running experiment: `done` of `total` units of work (training steps, models,
/// ...) of the whole experiment; `stage` says what is being done now.
struct ExperimentEvent {
  std::string stage;
  int64_t done = 0;
  int64_t total = 0;
  double elapsed_seconds = 0.0;
};
/// Called from one thread at a time (experiments serialise their calls). It may throw (a CLI
/// throws nalu::Interrupted after Ctrl-C): the experiment stops at that progress point, writes
/// nothing more, and the exception reaches the caller of run_experiment.
using ExperimentProgress = std::function<void(const ExperimentEvent&)>;

/// One table of a report: a caption and the table as markdown.
struct ExperimentTable {
  std::string caption;
  std::string markdown;
};

/// What an experiment produced.
struct ExperimentReport {
  std::string name;
  std::vector<ExperimentTable> tables;
  /// Paths of the files written (plots, raw records), inside the output directory.
  std::vector<std::string> files;
  /// A few sentences: the setting and what the numbers show.
  std::string summary;
  double wall_seconds = 0.0;
};

/// An experiment of the catalogue.
///
/// Example (a catalogue line in src/experiments/registry.cpp):
/// ```
/// {"identity", "NALU paper, Figure 1: ...", "Scalar autoencoders ...", &run_identity_experiment},
/// ```
struct ExperimentInfo {
  std::string name;         // as typed after `nalu experiment`
  std::string title;        // one line: paper, figure or table, what it shows
  std::string description;  // what is trained and evaluated; the full and the quick size
  /// Runs the experiment into options.output_dir (already created and checked, never empty).
  ExperimentReport (*run)(const ExperimentOptions& options, const ExperimentProgress& progress);
};

/// Every experiment, in a stable order.
const std::vector<ExperimentInfo>& experiment_catalog();
/// Throws nalu::Error "unknown experiment 'x' (known: ...)" for names not in the catalogue.
const ExperimentInfo& find_experiment(const std::string& name);
/// "results/NAME".
std::string default_output_dir(const std::string& name);
/// Creates `directory` (with its parents) when missing and checks that it is a writable
/// directory; throws nalu::Error otherwise.
void prepare_output_dir(const std::string& directory);

/// Checks the options (threads >= 0), prepares the output directory (before any training) and
/// runs experiment `name`; fills the report's name and wall time.
///
/// Example:
/// ```
/// nalu::ExperimentOptions options;
/// options.quick = true;
/// options.output_dir = "out/identity";
/// nalu::ExperimentReport report = nalu::run_experiment("identity", options);
/// std::cout << report.tables.front().markdown;
/// ```
ExperimentReport run_experiment(const std::string& name, const ExperimentOptions& options,
                                const ExperimentProgress& progress = {});

}  // namespace nalu
