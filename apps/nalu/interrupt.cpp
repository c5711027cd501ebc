// SIGINT / SIGTERM handling for the CLI.
#include "interrupt.h"

#include <csignal>

namespace nalu::cli {

namespace {

std::atomic<bool> stop_requested{false};
volatile std::sig_atomic_t received = 0;

extern "C" void on_stop_signal(int signal) {
  if (stop_requested.load()) {
    // Second signal: no more waiting for a checkpoint.
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  received = signal;
  stop_requested.store(true);
}

}  // namespace

const std::atomic<bool>& install_stop_handlers() {
  static const bool installed = [] {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    return true;
  }();
  (void)installed;
  return stop_requested;
}

void request_stop() {
  stop_requested.store(true);
}

void reset_stop_request() {
  stop_requested.store(false);
  received = 0;
}

int stop_signal() {
  return received;
}

int stop_exit_code() {
  return 128 + (received != 0 ? static_cast<int>(received) : SIGINT);
}

}  // namespace nalu::cli
