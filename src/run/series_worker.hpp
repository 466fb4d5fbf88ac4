#pragma once
// A block worker reducing every pixel's time series (the inputs are the steps' blocks) with one
// cube::SeriesOp: `sco cube`, openEO's reduce_dimension over t.
#include <span>
#include <vector>

#include "cube/series_op.hpp"
#include "io/block_pipeline.hpp"

namespace sco::run {

class SeriesWorker : public io::BlockWorker {
 public:
  SeriesWorker(const cube::SeriesOp& op, std::vector<double> t) : eval_(op, std::move(t)) {}
  // A trend's seasons and shortest record (cube::SeriesEvaluator::set_trend_layout).
  // With `spi`: the months of an spi:K, fitted over every year of the series.
  SeriesWorker(const cube::SeriesOp& op, std::vector<double> t, const cube::SeasonLayout& seasons, int min_years, bool spi = false)
      : eval_(op, std::move(t)) {
    if (spi) eval_.set_spi(seasons, -1000000, 1000000, min_years);
    else eval_.set_trend_layout(seasons, min_years);
  }
  // date_of_max / date_of_min: the steps' labels (cube::step_labels).
  SeriesWorker(const cube::SeriesOp& op, std::vector<double> t, std::vector<double> labels) : eval_(op, std::move(t)) {
    eval_.set_labels(std::move(labels));
  }
  void process(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) override {
    steps_.assign(inputs.begin(), inputs.end());
    eval_.evaluate(steps_, out);
  }
  bool folds_inputs() const override { return eval_.folds(); }
  void begin(const core::MutableBlockView& out) override { eval_.fold_begin(out); }
  void fold(std::size_t /*k*/, const core::BlockView& step) override { eval_.fold_step(step); }
  void finish(const core::MutableBlockView& out) override { eval_.fold_finish(out); }

 private:
  cube::SeriesEvaluator eval_;
  std::vector<core::BlockView> steps_;
};

}  // namespace sco::run
