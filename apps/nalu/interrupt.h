// SIGINT / SIGTERM for long commands: the first signal asks the running work to checkpoint and
// stop (nalu::RunControl::stop); a second one ends the process at once, as the default would.
#pragma once

#include <atomic>

namespace nalu::cli {

/// Installs the handlers (idempotent) and returns the flag they set.
const std::atomic<bool>& install_stop_handlers();
/// Sets the flag as a signal would (for a caller that runs commands in-process, e.g. a test).
void request_stop();
/// Clears the flag and the signal: each command starts with no stop requested.
void reset_stop_request();
/// The signal that set the flag (SIGINT, SIGTERM), or 0.
int stop_signal();
/// The conventional exit code after that signal: 128 + its number (130 for SIGINT).
int stop_exit_code();

}  // namespace nalu::cli
