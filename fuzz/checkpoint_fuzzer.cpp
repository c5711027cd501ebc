// libFuzzer target for checkpoints as `nalu train --resume` reads them: the input (its checksum
// fixed up, so that mutations reach the checkpoint reader) is written to a scratch file and a
// run resumes from it. A resumed run must have the configuration the checkpoint was written
// for, so the run takes the configuration saved in the checkpoint itself, when it is small
// enough to finish in milliseconds (the configuration comes from the user's command line; the
// fuzzed part is the saved state). Any input must resume or fail with one nalu::Error (or a unit's
// c10::Error); another exception, a crash, undefined behaviour, a hang or a huge allocation is a
// finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include <c10/util/Exception.h>

#include "fuzz_util.h"
#include "nalu/error.h"
#include "nalu/io/archive.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/record.h"

namespace {

// Configurations the fuzzer resumes: tiny tasks, models and runs.
bool small_enough(const nalu::RunConfig& config) {
  const auto& t = config.task_options;
  const auto& training = config.training;
  if (t.input_size > 16 || t.evaluation_size > 256 || training.iterations > 400 ||
      training.batch_size > 64 || training.eval_interval < 10 || config.model.hidden.size() > 3)
    return false;
  for (const int64_t size : config.model.hidden) {
    if (size > 8)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nalu::fuzz::ScratchDir scratch;
  const auto bytes =
      nalu::fuzz::with_archive_checksum(std::string(nalu::fuzz::as_text(data, size)));
  try {
    const auto archive = nalu::io::Archive::parse(bytes, "fuzz-input");
    if (!archive.meta.contains("config"))
      return 0;
    const nalu::RunConfig config = nalu::config_from_json(archive.meta["config"]);
    if (!small_enough(config))
      return 0;
    nalu::RunControl control;
    control.checkpoint = scratch.write("run.ckpt", bytes);
    control.resume = true;
    nalu::run(config, {}, control);
  } catch (const nalu::Error&) {
    // Bad input, reported the way the library promises.
  } catch (const c10::Error&) {
    // A unit's own argument check (TORCH_CHECK, as STYLE.md allows), which the CLI reports as
    // one line with exit code 2: e.g. a saved configuration with epsilon 0 for an iNALU.
  }
  return 0;
}
