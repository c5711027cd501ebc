// The catalogue of experiments: one line per experiment, in the order `nalu experiment --list`
// shows them. An experiment's run function is declared in its own header.
#include "nalu/experiments/experiment.h"
#include "nalu/experiments/gridworld.h"
#include "nalu/experiments/identity.h"
#include "nalu/experiments/mnist_parity.h"
#include "nalu/experiments/mnist_sequences.h"
#include "nalu/experiments/number_words.h"
#include "nalu/experiments/programs.h"

namespace nalu {

const std::vector<ExperimentInfo>& experiment_catalog() {
  static const std::vector<ExperimentInfo> kExperiments = {
      {"identity", "NALU paper, Figure 1: MLPs fail to extrapolate the identity; NAC does not",
       "Scalar autoencoders 1-8-8-8-1, one family per activation (the paper's 15) plus a stack "
       "of NACs, trained on U[-5, 5] with squared error; mean absolute error over [-20, 20]. "
       "Full: 100 models per family, 10,000 Adam steps. Quick: 10 models, 2,000 steps.",
       &run_identity_experiment},
      {"mnist-count", "NALU paper, Table 2: counting MNIST digits in sequences 1-1000 long",
       "CNN per digit -> LSTM, GRU, RNN-tanh, RNN-ReLU, NAC or NALU core -> 10 counts, trained "
       "on sequences of 10; accuracy and MAE on held-out digits at lengths 1, 10, 100, 1000. "
       "Full: six cores, 10,000 steps, 1,000 test sequences per length. Quick: LSTM, NAC, NALU, "
       "10,000 steps, 200 sequences.",
       &run_mnist_count_experiment},
      {"mnist-add", "NALU paper, Table 2: adding MNIST digits in sequences 1-1000 long",
       "As mnist-count with the sum of the digits as the one output. Full: six cores, 10,000 "
       "steps, 1,000 test sequences per length. Quick: LSTM, NAC, NALU, 10,000 steps, 200 "
       "sequences.",
       &run_mnist_add_experiment},
      {"mnist-parity",
       "NALU paper, Table 4: MNIST parity, only the final layer varied (affine, no bias, NAC "
       "weights, NAC, NAC + sigmoid)",
       "Is the sum of two MNIST digits odd? A CNN shared by the digits, a hidden layer over both, "
       "then the varied final layer; test accuracy on pairs of held-out digits. Full: 8 networks "
       "per variant, 3,000 Adam steps. Quick: 3 networks, 1,000 steps.",
       &run_mnist_parity_experiment},
      {"number-words",
       "NALU paper, Table 3: English number words to numbers (\"seven hundred and two\" -> 702)",
       "Token embedding 256 -> LSTM 10 -> an output cell on [100 h_t, y_{t-1}]: Linear (the "
       "LSTM baseline), NAC, NALU, NAU or NAU->NMU, trained with the paper's loss (last word) "
       "and on every prefix; 169 training numbers, 200 for selection, 631 for the test; MAE and "
       "exact answers by split and digits, outputs after every word. Full: five cells, 5 seeds, "
       "10,000 steps. Quick: Linear and NAU, 1 seed, 3,000 steps.",
       &run_number_words_experiment},
      {"programs",
       "NALU paper, program evaluation: the value a short program prints, on numbers larger "
       "than any in training",
       "Programs of four families (addition, subtraction, if-statements, all combined with "
       "assignments) read as characters by an LSTM with a Linear, NAC, NALU or NAU output layer "
       "(the paper's form), or with literals and variable reads as value tokens accumulated by "
       "such a cell; trained on literals of 1-2 digits, tested on 1-6. Full: eight models, 3 "
       "seeds, 2,000 steps, 500 test programs per digits. Quick: addition, characters/linear "
       "and values/nau, 1 seed, 2,000 steps.",
       &run_programs_experiment},
      {"gridworld",
       "NALU paper, grid-world time tracking: be on the target exactly at step T, for T beyond "
       "the trained 5-12",
       "A 5x5 grid seen as 56x56 frames; an agent told T (a convolution per cell, an LSTM, "
       "policy and value heads) is trained with A2C on T in [5, 12], alone (the paper's "
       "baseline) or with a NAC time pathway that counts the steps and subtracts them from T; "
       "reward and share on target for every T from 1 to 25. Full: both agents, 3 seeds, 10,000 "
       "updates of 64 environments x 8 steps, 100 episodes per T. Quick: 1 seed, 1,000 "
       "updates, 50 episodes per T up to 20.",
       &run_gridworld_experiment},
  };
  return kExperiments;
}

}  // namespace nalu
