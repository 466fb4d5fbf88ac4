#pragma once
// What a plan carries to its execution (private to the run library).
#include <memory>

#include "run/context.hpp"
#include "run/run.hpp"

namespace sco::run {

struct RunPlan::State {
  indicators::Recipe recipe;
  std::vector<indicators::Step> steps;
  std::shared_ptr<ZoneSet> zones;  // shared with the result (RunResult::zones)
  std::unique_ptr<RunContext> ctx;
};

}  // namespace sco::run
