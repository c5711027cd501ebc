// The grid-world environment (nalu/data/gridworld.h): rules, seeded episodes and frames drawn
// from precomputed tiles.
#include "nalu/data/gridworld.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "nalu/error.h"
#include "random/splitmix64.h"

namespace nalu::data {

namespace {

constexpr int64_t kPixels = kGridFramePixels;
constexpr int64_t kCell = 11;  // pixels per cell, grid line included
constexpr int64_t kPlane = kPixels * kPixels;

// The frame of an empty grid, and the 10 x 10 interiors of a target cell, an agent cell and
// an agent on the target, each [3][10][10].
struct Tiles {
  std::vector<float> background;
  std::vector<float> target, agent, both;

  Tiles() : background(kGridFrameValues) {
    for (int64_t channel = 0; channel < 3; ++channel) {
      for (int64_t y = 0; y < kPixels; ++y) {
        for (int64_t x = 0; x < kPixels; ++x) {
          const bool line = y % kCell == 0 || x % kCell == 0;
          background[static_cast<size_t>(channel * kPlane + y * kPixels + x)] = line ? 0.3f : 0.85f;
        }
      }
    }
    target = tile({1.f, 0.f, 0.f}, nullptr);
    const std::array<float, 3> blue{0.f, 0.f, 1.f};
    agent = tile({0.85f, 0.85f, 0.85f}, &blue);
    both = tile({1.f, 0.f, 0.f}, &blue);
  }

  static std::vector<float> tile(const std::array<float, 3>& fill,
                                 const std::array<float, 3>* square) {
    constexpr int64_t kInside = kCell - 1;
    std::vector<float> out(3 * kInside * kInside);
    for (int64_t channel = 0; channel < 3; ++channel) {
      for (int64_t y = 0; y < kInside; ++y) {
        for (int64_t x = 0; x < kInside; ++x) {
          const bool in_square = square != nullptr && y >= 2 && y < 8 && x >= 2 && x < 8;
          out[static_cast<size_t>((channel * kInside + y) * kInside + x)] =
              in_square ? (*square)[static_cast<size_t>(channel)]
                        : fill[static_cast<size_t>(channel)];
        }
      }
    }
    return out;
  }
};

const Tiles& tiles() {
  static const Tiles kTiles;
  return kTiles;
}

void paste(float* frame, const std::vector<float>& tile, int64_t row, int64_t col) {
  constexpr int64_t kInside = kCell - 1;
  for (int64_t channel = 0; channel < 3; ++channel) {
    for (int64_t y = 0; y < kInside; ++y) {
      std::memcpy(frame + channel * kPlane + (1 + row * kCell + y) * kPixels + 1 + col * kCell,
                  tile.data() + (channel * kInside + y) * kInside,
                  static_cast<size_t>(kInside) * sizeof(float));
    }
  }
}

bool on_grid(int64_t row, int64_t col) {
  return row >= 0 && row < kGridSize && col >= 0 && col < kGridSize;
}

}  // namespace

int64_t GridEpisode::distance() const {
  return std::abs(agent_row - target_row) + std::abs(agent_col - target_col);
}

GridWorld::GridWorld(int64_t environments, int64_t min_time, int64_t max_time, uint64_t seed,
                     GridRewards rewards)
    : min_time_(min_time), max_time_(max_time), rewards_(rewards), state_(seed) {
  check(environments >= 1,
        "gridworld: environments must be at least 1, got " + std::to_string(environments));
  check(min_time >= 1 && min_time <= max_time && max_time <= 1000,
        "gridworld: the time range must satisfy 1 <= min <= max <= 1000, got [" +
            std::to_string(min_time) + ", " + std::to_string(max_time) + "]");
  check(rewards.early <= 0,
        "gridworld: the early reward must be <= 0, got " + std::to_string(rewards.early));
  episodes_.resize(static_cast<size_t>(environments));
  finished_.assign(static_cast<size_t>(environments), 0);
  for (int64_t i = 0; i < environments; ++i)
    reset(i);
}

uint64_t GridWorld::below(uint64_t bound) {
  nalu::detail::SplitMix64 generator(state_);
  const uint64_t value = generator.below(bound);
  state_ = generator.state();
  return value;
}

GridEpisode GridWorld::draw(int64_t time) {
  // Uniform over the pairs of different cells within distance T: rejection from all pairs (at
  // worst 1 in 6 accepted, for T = 1).
  GridEpisode episode;
  episode.time = time;
  constexpr uint64_t kCells = kGridSize * kGridSize;
  for (;;) {
    const uint64_t agent = below(kCells);
    const uint64_t target = below(kCells);
    episode.agent_row = static_cast<int64_t>(agent / kGridSize);
    episode.agent_col = static_cast<int64_t>(agent % kGridSize);
    episode.target_row = static_cast<int64_t>(target / kGridSize);
    episode.target_col = static_cast<int64_t>(target % kGridSize);
    if (agent != target && episode.distance() <= time)
      return episode;
  }
}

void GridWorld::reset(int64_t i) {
  check(i >= 0 && i < size(), "gridworld: no environment " + std::to_string(i));
  const uint64_t span = static_cast<uint64_t>(max_time_ - min_time_ + 1);
  episodes_[static_cast<size_t>(i)] = draw(min_time_ + static_cast<int64_t>(below(span)));
  finished_[static_cast<size_t>(i)] = 0;
}

const GridEpisode& GridWorld::episode(int64_t i) const {
  check(i >= 0 && i < size(), "gridworld: no environment " + std::to_string(i));
  return episodes_[static_cast<size_t>(i)];
}

void GridWorld::set_episode(int64_t i, const GridEpisode& episode) {
  check(i >= 0 && i < size(), "gridworld: no environment " + std::to_string(i));
  check(on_grid(episode.agent_row, episode.agent_col) &&
            on_grid(episode.target_row, episode.target_col),
        "gridworld: a cell is off the 5x5 grid");
  check(episode.time >= 1, "gridworld: T must be at least 1, got " + std::to_string(episode.time));
  check(episode.elapsed >= 0 && episode.elapsed < episode.time,
        "gridworld: elapsed steps must be in [0, T), got " + std::to_string(episode.elapsed));
  episodes_[static_cast<size_t>(i)] = episode;
  finished_[static_cast<size_t>(i)] = 0;
}

void GridWorld::step(const int64_t* actions, float* rewards, uint8_t* done) {
  for (int64_t i = 0; i < size(); ++i) {
    check(actions[i] >= 0 && actions[i] < kGridActions,
          "gridworld: action " + std::to_string(actions[i]) + " of environment " +
              std::to_string(i) + " is not in 0-4");
  }
  for (int64_t i = 0; i < size(); ++i) {
    auto& e = episodes_[static_cast<size_t>(i)];
    if (finished_[static_cast<size_t>(i)]) {
      rewards[i] = 0.f;
      done[i] = 1;
      continue;
    }
    int64_t row = e.agent_row, col = e.agent_col;
    switch (static_cast<GridAction>(actions[i])) {
      case GridAction::kUp:
        --row;
        break;
      case GridAction::kDown:
        ++row;
        break;
      case GridAction::kLeft:
        --col;
        break;
      case GridAction::kRight:
        ++col;
        break;
      case GridAction::kStay:
        break;
    }
    if (on_grid(row, col)) {
      e.agent_row = row;
      e.agent_col = col;
    }
    ++e.elapsed;
    const bool on_target = e.agent_row == e.target_row && e.agent_col == e.target_col;
    if (e.elapsed == e.time) {
      rewards[i] = on_target ? static_cast<float>(rewards_.on_time) : 0.f;
      done[i] = 1;
      if (auto_reset_)
        reset(i);
      else
        finished_[static_cast<size_t>(i)] = 1;
    } else {
      rewards[i] = on_target ? static_cast<float>(rewards_.early) : 0.f;
      done[i] = 0;
    }
  }
}

void GridWorld::render_one(int64_t i, float* frame) const {
  const auto& e = episode(i);
  const Tiles& t = tiles();
  std::memcpy(frame, t.background.data(), t.background.size() * sizeof(float));
  if (e.agent_row == e.target_row && e.agent_col == e.target_col) {
    paste(frame, t.both, e.agent_row, e.agent_col);
  } else {
    paste(frame, t.target, e.target_row, e.target_col);
    paste(frame, t.agent, e.agent_row, e.agent_col);
  }
}

void GridWorld::render(float* frames) const {
  for (int64_t i = 0; i < size(); ++i)
    render_one(i, frames + i * kGridFrameValues);
}

void GridWorld::times(float* out) const {
  for (int64_t i = 0; i < size(); ++i)
    out[i] = static_cast<float>(episodes_[static_cast<size_t>(i)].time);
}

}  // namespace nalu::data
