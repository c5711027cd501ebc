// The whole command line as a function, so that tests can drive it in-process.
#pragma once

namespace nalu::cli {

/// Runs one nalu command (argv[0] is the program name) and returns its exit code: 0 success,
/// 1 the run failed (diverged, I/O), 2 bad input, 128 + N after signal N. Prints to stdout and
/// stderr; never calls exit.
int run(int argc, const char* const* argv);

}  // namespace nalu::cli
