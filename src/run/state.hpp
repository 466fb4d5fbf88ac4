#pragma once
// What a plan carries to its execution (private to the run library).
#include <memory>

#include "run/context.hpp"
#include "run/run.hpp"

namespace sco::run {

struct RunPlan::State {
  indicators::Recipe recipe;
  std::vector<indicators::Step> steps;
  std::unique_ptr<ZoneSet> zones;
  std::unique_ptr<RunContext> ctx;
};

}  // namespace sco::run
