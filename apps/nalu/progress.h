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
  /// Progress of work counted in items rather than training steps (an experiment's models and
  /// steps): a bar labelled `what`, or a line every 5% of `total`.
  void items(const std::string& what, int64_t done, int64_t total, double elapsed_seconds);
  /// Ends a bar line so that later output starts on a fresh line.
  void finish();

 private:
  void draw_bar(const ProgressEvent& event);
  /// Redraws the bar line at `fraction` with `text` after it; at most every 100 ms unless
  /// `last`.
  void redraw(double fraction, const std::string& text, bool last);
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
