// `nalu report`.
#include "report_command.h"

#include <cstdio>
#include <filesystem>

#include "nalu/error.h"
#include "nalu/io/files.h"
#include "nalu/report/html.h"
#include "nalu/sweep/bench.h"
#include "nalu/sweep/records.h"

namespace nalu::cli {

CLI::App* add_report_command(CLI::App& app, ReportFlags& f) {
  auto* cmd = app.add_subcommand(
      "report", "Write a results page (HTML with inline SVG) or its figures from record files");
  cmd->footer(
      "html: one self-contained page (nothing is fetched from the network) with, per bench\n"
      "file, success rates with Wilson intervals, solved-at steps, extrapolation errors,\n"
      "learning curves, learned formulas and an equivalent command; per experiment, its\n"
      "metrics and series. svg: --output is a directory (created if missing) that gets one\n"
      "NAME.svg per figure, named after the file and the figure. The same records give the\n"
      "same bytes.\n"
      "Examples:\n"
      "  nalu report docs/results/demo-fb2dae3.jsonl -o demo.html\n"
      "  nalu report division.jsonl identity.jsonl -o report.html --title 'Division runs'\n"
      "  nalu report demo.jsonl --format svg -o figures/");
  cmd->add_option("files", f.inputs, "JSON Lines record files (nalu bench, nalu experiment)")
      ->required();
  cmd->add_option("--output,-o", f.output, "The HTML file, or the directory for --format svg")
      ->required();
  cmd->add_option("--format", f.format, "html or svg")
      ->check(CLI::IsMember({"html", "svg"}))
      ->capture_default_str();
  cmd->add_option("--title", f.title, "The page's title")->capture_default_str();
  return cmd;
}

int run_report_command(const ReportFlags& f) {
  // Everything is read and drawn before anything is written: bad input writes nothing.
  std::vector<RecordFile> files;
  for (const auto& path : f.inputs) {
    files.push_back({path, read_records(path)});
    check(!files.back().records.empty(), path + ": no records");
  }
  ReportOptions options;
  options.title = f.title;
  options.preset_names = bench_preset_names();
  if (f.format == "svg") {
    const auto figures = report_figures(files, options);
    std::error_code error;
    std::filesystem::create_directories(f.output, error);
    check(!error, "cannot create directory '" + f.output + "': " + error.message());
    for (const auto& figure : figures)
      write_file_atomically((std::filesystem::path(f.output) / (figure.name + ".svg")).string(),
                            figure.svg);
    std::fprintf(stderr, "wrote %zu figures to %s\n", figures.size(), f.output.c_str());
    return 0;
  }
  const std::string html = render_html_report(files, options);
  write_file_atomically(f.output, html);
  std::fprintf(stderr, "wrote %s (%zu KiB)\n", f.output.c_str(), html.size() / 1024);
  return 0;
}

}  // namespace nalu::cli
