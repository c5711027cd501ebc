// Progress display for long runs: a redrawn bar with ETA on a terminal, plain periodic lines
// when stderr is a file or a pipe (CI logs, Slurm output).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "nalu/train/trainer.h"

namespace nalu::cli {

enum class ProgressMode { kAuto, kBar, kLines, kNone };

ProgressMode parse_progress_mode(const std::string& text);

class ProgressPrinter {
 public:
  ProgressPrinter(ProgressMode mode, std::FILE* stream = stderr);
  void operator()(const ProgressEvent& event);
  /// Ends a bar line so that later output starts on a fresh line.
  void finish();

 private:
  void draw_bar(const ProgressEvent& event);
  void print_line(const ProgressEvent& event);

  ProgressMode mode_;
  std::FILE* stream_;
  std::chrono::steady_clock::time_point last_draw_{};
  double last_line_fraction_ = -1.0;
  bool bar_open_ = false;
};

/// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace nalu::cli
