#include "progress.h"

#include <unistd.h>

#include <cmath>

#include "nalu/error.h"

namespace nalu::cli {

ProgressMode parse_progress_mode(const std::string& text) {
  if (text == "auto")
    return ProgressMode::kAuto;
  if (text == "bar")
    return ProgressMode::kBar;
  if (text == "lines")
    return ProgressMode::kLines;
  if (text == "none")
    return ProgressMode::kNone;
  throw Error("unknown progress mode '" + text + "' (known: auto, bar, lines, none)");
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  const long total = std::lround(seconds);
  char buffer[32];
  if (total >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", total / 3600, total % 3600 / 60);
  } else if (total >= 60) {
    std::snprintf(buffer, sizeof buffer, "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lds", total);
  }
  return buffer;
}

ProgressPrinter::ProgressPrinter(ProgressMode mode, std::FILE* stream)
    : mode_(mode), stream_(stream) {
  if (mode_ == ProgressMode::kAuto) {
    mode_ = ::isatty(::fileno(stream_)) ? ProgressMode::kBar : ProgressMode::kLines;
  }
}

void ProgressPrinter::operator()(const ProgressEvent& event) {
  if (mode_ == ProgressMode::kBar)
    draw_bar(event);
  if (mode_ == ProgressMode::kLines)
    print_line(event);
}

void ProgressPrinter::redraw(double fraction, const std::string& text, bool last) {
  const auto now = std::chrono::steady_clock::now();
  if (!last && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '-');
  std::fprintf(stream_, "\r[%s] %3.0f%% %s\x1b[K", bar.c_str(), 100 * fraction, text.c_str());
  std::fflush(stream_);
  bar_open_ = true;
}

void ProgressPrinter::draw_bar(const ProgressEvent& event) {
  const double fraction = event.total > 0 ? static_cast<double>(event.step) / event.total : 1.0;
  const double eta = fraction > 0 ? event.elapsed_seconds * (1 - fraction) / fraction : NAN;
  char text[160];
  std::snprintf(text, sizeof text, "step %lld/%lld loss %.3g  %s elapsed, ETA %s",
                static_cast<long long>(event.step), static_cast<long long>(event.total), event.loss,
                format_duration(event.elapsed_seconds).c_str(), format_duration(eta).c_str());
  redraw(fraction, text, event.step == event.total);
}

void ProgressPrinter::items(const std::string& what, int64_t done, int64_t total,
                            double elapsed_seconds) {
  if (mode_ == ProgressMode::kNone)
    return;
  const double fraction = total > 0 ? static_cast<double>(done) / total : 1.0;
  const double eta = fraction > 0 ? elapsed_seconds * (1 - fraction) / fraction : NAN;
  char text[160];
  std::snprintf(text, sizeof text, "%lld/%lld  %s elapsed, ETA %s  %s",
                static_cast<long long>(done), static_cast<long long>(total),
                format_duration(elapsed_seconds).c_str(), format_duration(eta).c_str(),
                what.c_str());
  if (mode_ == ProgressMode::kBar) {
    redraw(fraction, text, done == total);
  } else if (done == total || fraction - last_line_fraction_ >= 0.05) {
    last_line_fraction_ = fraction;
    std::fprintf(stream_, "%3.0f%% %s\n", 100 * fraction, text);
    std::fflush(stream_);
  }
}

void ProgressPrinter::print_line(const ProgressEvent& event) {
  // One line per evaluation, at most every 5% of the run.
  if (event.evaluation == nullptr)
    return;
  const double fraction = event.total > 0 ? static_cast<double>(event.step) / event.total : 1.0;
  if (event.step != event.total && event.step != 0 && fraction - last_line_fraction_ < 0.05) {
    return;
  }
  last_line_fraction_ = fraction;
  const double eta = fraction > 0 ? event.elapsed_seconds * (1 - fraction) / fraction : NAN;
  std::fprintf(stream_,
               "step %lld/%lld (%.0f%%) loss %.3g interpolation MSE %.3g extrapolation MSE %.3g "
               "elapsed %s ETA %s%s\n",
               static_cast<long long>(event.step), static_cast<long long>(event.total),
               100 * fraction, event.evaluation->train_loss, event.evaluation->interpolation_mse,
               event.evaluation->extrapolation_mse, format_duration(event.elapsed_seconds).c_str(),
               format_duration(eta).c_str(),
               event.reinitialized ? " (re-initialised iNALU weights)" : "");
  std::fflush(stream_);
}

void ProgressPrinter::finish() {
  if (bar_open_)
    std::fprintf(stream_, "\n");
  bar_open_ = false;
}

}  // namespace nalu::cli
