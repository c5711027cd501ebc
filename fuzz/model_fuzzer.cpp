// libFuzzer target for saved models as `nalu eval --model FILE --eval-size 64` reads them: the
// input (its checksum fixed up, so that mutations reach the model reader) is written to a
// scratch file, loaded with nalu::load_model (which rebuilds the model from the saved
// configuration and loads its parameters), then evaluated on the task its configuration
// describes. Any input must go through or fail with one nalu::Error (or a unit's c10::Error);
// another exception, a crash, undefined behaviour or a huge allocation is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <c10/util/Exception.h>

#include "fuzz_util.h"
#include "nalu/error.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/trainer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nalu::fuzz::ScratchDir scratch;
  const auto bytes =
      nalu::fuzz::with_archive_checksum(std::string(nalu::fuzz::as_text(data, size)));
  try {
    auto loaded = nalu::load_model(scratch.write("model.nalu", bytes));
    auto config = loaded.config;
    // As --eval-size does: the evaluation sets' size is the user's choice, not the file's.
    config.task_options.evaluation_size =
        std::min<int64_t>(config.task_options.evaluation_size, 64);
    config.validate();
    const auto task = nalu::make_task(config);
    const auto& training = config.training;
    nalu::evaluate(*loaded.model, task.interpolation_set(), training.accuracy_atol,
                   training.accuracy_rtol);
    nalu::evaluate(*loaded.model, task.extrapolation_set(), training.accuracy_atol,
                   training.accuracy_rtol);
    loaded.model->sparsity_error();
    loaded.model->formula();
  } catch (const nalu::Error&) {
    // Bad input, reported the way the library promises.
  } catch (const c10::Error&) {
    // A unit's own argument check (TORCH_CHECK, as STYLE.md allows), which the CLI reports as
    // one line with exit code 2: e.g. a saved configuration with epsilon 0 for an iNALU.
  }
  return 0;
}
