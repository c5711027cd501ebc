// `nalu report RECORDS.jsonl... -o report.html`: a results page (or its figures as SVG files)
// from bench and experiment records.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace nalu::cli {

struct ReportFlags {
  std::vector<std::string> inputs;
  std::string output;
  std::string format = "html";
  std::string title = "nalu results";
};

CLI::App* add_report_command(CLI::App& app, ReportFlags& flags);
int run_report_command(const ReportFlags& flags);

}  // namespace nalu::cli
