// Running a catalogued experiment: option checks and the output directory, before any training.
#include "nalu/experiments/experiment.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "nalu/error.h"
#include "nalu/strings.h"

namespace nalu {

const ExperimentInfo& find_experiment(const std::string& name) {
  const auto& catalog = experiment_catalog();
  std::vector<std::string> names;
  for (const auto& experiment : catalog)
    names.push_back(experiment.name);
  return catalog[find_name(names, name, "experiment")];
}

std::string default_output_dir(const std::string& name) {
  std::string directory = "results/";
  directory += name;
  return directory;
}

void prepare_output_dir(const std::string& directory) {
  namespace fs = std::filesystem;
  check(!directory.empty(), "output directory is empty");
  std::error_code error;
  const fs::path path(directory);
  if (!fs::exists(path, error)) {
    fs::create_directories(path, error);
    check(!error, "cannot create output directory '" + directory + "': " + error.message());
  }
  check(fs::is_directory(path, error), "output '" + directory + "' is not a directory");
  check(::access(path.c_str(), W_OK | X_OK) == 0,
        "output directory '" + directory + "' is not writable");
}

ExperimentReport run_experiment(const std::string& name, const ExperimentOptions& options,
                                const ExperimentProgress& progress) {
  const ExperimentInfo& experiment = find_experiment(name);
  check(options.threads >= 0,
        "experiment: threads must be >= 0, got " + std::to_string(options.threads));
  ExperimentOptions resolved = options;
  if (resolved.output_dir.empty())
    resolved.output_dir = default_output_dir(name);
  prepare_output_dir(resolved.output_dir);

  const auto start = std::chrono::steady_clock::now();
  ExperimentReport report = experiment.run(resolved, progress);
  report.name = experiment.name;
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace nalu
