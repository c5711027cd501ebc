// The grid world's rules on hand-made episodes: walls, the early penalty, the reward at T, the
// end of an episode, auto-reset, seeded episodes that can always be won, and the frame layout.
#include "nalu/data/gridworld.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>
#include <vector>

#include "test_util.h"

namespace nalu::data {
namespace {

using testing::contains;
using testing::error_message;

constexpr int64_t kUp = 0, kDown = 1, kLeft = 2, kRight = 3, kStay = 4;

struct Stepped {
  float reward;
  uint8_t done;
};

Stepped step_one(GridWorld& world, int64_t action) {
  std::vector<int64_t> actions(static_cast<size_t>(world.size()), kStay);
  actions[0] = action;
  std::vector<float> rewards(static_cast<size_t>(world.size()));
  std::vector<uint8_t> done(static_cast<size_t>(world.size()));
  world.step(actions.data(), rewards.data(), done.data());
  return {rewards[0], done[0]};
}

GridEpisode episode(int64_t agent_row, int64_t agent_col, int64_t target_row, int64_t target_col,
                    int64_t time) {
  GridEpisode e;
  e.agent_row = agent_row;
  e.agent_col = agent_col;
  e.target_row = target_row;
  e.target_col = target_col;
  e.time = time;
  return e;
}

TEST(GridWorld, WallsKeepTheAgentInPlace) {
  GridWorld world(1, 5, 12, 1);
  world.set_auto_reset(false);
  world.set_episode(0, episode(0, 0, 4, 4, 20));
  step_one(world, kUp);
  step_one(world, kLeft);
  EXPECT_EQ(world.episode(0).agent_row, 0);
  EXPECT_EQ(world.episode(0).agent_col, 0);
  step_one(world, kDown);
  step_one(world, kRight);
  EXPECT_EQ(world.episode(0).agent_row, 1);
  EXPECT_EQ(world.episode(0).agent_col, 1);
  world.set_episode(0, episode(4, 4, 0, 0, 20));
  step_one(world, kDown);
  step_one(world, kRight);
  step_one(world, kStay);
  EXPECT_EQ(world.episode(0).agent_row, 4);
  EXPECT_EQ(world.episode(0).agent_col, 4);
  EXPECT_EQ(world.episode(0).elapsed, 3);
}

TEST(GridWorld, OnTheTargetExactlyAtTEarnsOneAndEndsTheEpisode) {
  GridWorld world(1, 5, 12, 2);
  world.set_auto_reset(false);
  // Two steps from the target with T = 4: wait twice, then walk in, arriving at step 4.
  world.set_episode(0, episode(2, 2, 3, 3, 4));
  EXPECT_EQ(step_one(world, kStay).reward, 0.f);
  EXPECT_EQ(step_one(world, kStay).reward, 0.f);
  EXPECT_EQ(step_one(world, kRight).reward, 0.f);
  const auto last = step_one(world, kDown);
  EXPECT_EQ(last.reward, 1.f);
  EXPECT_EQ(last.done, 1);
  // An ended episode without auto-reset stays ended.
  const auto after = step_one(world, kUp);
  EXPECT_EQ(after.reward, 0.f);
  EXPECT_EQ(after.done, 1);
  EXPECT_EQ(world.episode(0).agent_row, 3);
}

TEST(GridWorld, ArrivingEarlyIsPenalisedEveryStepOnTheTarget) {
  GridRewards rewards;
  rewards.early = -0.25;
  GridWorld world(1, 5, 12, 3, rewards);
  world.set_auto_reset(false);
  world.set_episode(0, episode(0, 0, 0, 1, 4));
  EXPECT_EQ(step_one(world, kRight).reward, -0.25f);  // step 1 < T on the target
  EXPECT_EQ(step_one(world, kStay).reward, -0.25f);   // step 2
  EXPECT_EQ(step_one(world, kLeft).reward, 0.f);      // step 3, off it
  const auto last = step_one(world, kRight);          // step 4 = T, back on it
  EXPECT_EQ(last.reward, 1.f);
  EXPECT_EQ(last.done, 1);
}

TEST(GridWorld, MissingTheTargetAtTEndsWithZero) {
  GridWorld world(1, 5, 12, 4);
  world.set_auto_reset(false);
  world.set_episode(0, episode(0, 0, 4, 4, 2));
  EXPECT_EQ(step_one(world, kDown).done, 0);
  const auto last = step_one(world, kDown);
  EXPECT_EQ(last.reward, 0.f);
  EXPECT_EQ(last.done, 1);
}

TEST(GridWorld, EndedEpisodesRestartInTheSameCall) {
  GridWorld world(2, 5, 12, 5);
  world.set_episode(0, episode(1, 1, 1, 2, 1));
  const auto last = step_one(world, kRight);
  EXPECT_EQ(last.reward, 1.f);
  EXPECT_EQ(last.done, 1);
  EXPECT_EQ(world.episode(0).elapsed, 0);
  EXPECT_GE(world.episode(0).time, 5);
  EXPECT_EQ(world.episode(1).elapsed, 1);
}

TEST(GridWorld, SeededEpisodesCanAlwaysBeWonAndCoverTheRange) {
  GridWorld world(4000, 1, 12, 6);
  GridWorld same(4000, 1, 12, 6);
  std::set<int64_t> times;
  std::set<std::tuple<int64_t, int64_t>> starts;
  for (int64_t i = 0; i < world.size(); ++i) {
    const auto& e = world.episode(i);
    EXPECT_GE(e.distance(), 1);
    EXPECT_LE(e.distance(), e.time);
    EXPECT_EQ(e.elapsed, 0);
    EXPECT_EQ(e.agent_row * 5 + e.agent_col,
              same.episode(i).agent_row * 5 + same.episode(i).agent_col);
    EXPECT_EQ(e.time, same.episode(i).time);
    times.insert(e.time);
    starts.insert({e.agent_row, e.agent_col});
  }
  EXPECT_EQ(times.size(), 12u);
  EXPECT_EQ(starts.size(), 25u);
  GridWorld other(4000, 1, 12, 7);
  int64_t differ = 0;
  for (int64_t i = 0; i < world.size(); ++i)
    differ += other.episode(i).time != world.episode(i).time ? 1 : 0;
  EXPECT_GT(differ, 1000);
}

TEST(GridWorld, FramesShowTheGridTheTargetAndTheAgent) {
  GridWorld world(2, 5, 12, 8);
  world.set_episode(0, episode(0, 1, 3, 4, 9));
  world.set_episode(1, episode(2, 2, 2, 2, 9));
  std::vector<float> frames(2 * kGridFrameValues);
  world.render(frames.data());
  const auto pixel = [&](int64_t env, int64_t channel, int64_t y, int64_t x) {
    return frames[static_cast<size_t>(env * kGridFrameValues + (channel * 56 + y) * 56 + x)];
  };
  // Grid lines and an empty cell.
  EXPECT_FLOAT_EQ(pixel(0, 0, 0, 5), 0.3f);
  EXPECT_FLOAT_EQ(pixel(0, 0, 11, 5), 0.3f);
  EXPECT_FLOAT_EQ(pixel(0, 1, 5, 5), 0.85f);
  // The target (row 3, column 4): red over its whole interior.
  EXPECT_FLOAT_EQ(pixel(0, 0, 1 + 33, 1 + 44), 1.f);
  EXPECT_FLOAT_EQ(pixel(0, 1, 10 + 33, 10 + 44), 0.f);
  // The agent (row 0, column 1): blue in the middle of a grey cell.
  EXPECT_FLOAT_EQ(pixel(0, 2, 5, 16), 1.f);
  EXPECT_FLOAT_EQ(pixel(0, 0, 5, 16), 0.f);
  EXPECT_FLOAT_EQ(pixel(0, 0, 1, 12), 0.85f);
  // Agent on the target: blue middle, red rim.
  EXPECT_FLOAT_EQ(pixel(1, 2, 5 + 22, 5 + 22), 1.f);
  EXPECT_FLOAT_EQ(pixel(1, 0, 1 + 22, 1 + 22), 1.f);
  std::vector<float> times(2);
  world.times(times.data());
  EXPECT_EQ(times[0], 9.f);
}

TEST(GridWorld, BadSettingsAndActionsAreRejected) {
  EXPECT_TRUE(contains(error_message([] { GridWorld(0, 5, 12, 0); }), "environments"));
  EXPECT_TRUE(contains(error_message([] { GridWorld(1, 6, 5, 0); }), "time range"));
  GridRewards positive;
  positive.early = 0.5;
  EXPECT_TRUE(contains(error_message([&] { GridWorld(1, 5, 12, 0, positive); }), "early"));
  GridWorld world(2, 5, 12, 0);
  EXPECT_TRUE(contains(error_message([&] { world.set_episode(0, episode(5, 0, 0, 0, 3)); }),
                       "off the 5x5 grid"));
  EXPECT_TRUE(
      contains(error_message([&] { world.set_episode(0, episode(0, 0, 1, 1, 0)); }), "T must be"));
  const auto before = world.episode(0);
  std::vector<int64_t> actions{kUp, 7};
  std::vector<float> rewards(2);
  std::vector<uint8_t> done(2);
  EXPECT_TRUE(
      contains(error_message([&] { world.step(actions.data(), rewards.data(), done.data()); }),
               "action 7 of environment 1"));
  EXPECT_EQ(world.episode(0).elapsed, before.elapsed);  // nothing moved
}

}  // namespace
}  // namespace nalu::data
