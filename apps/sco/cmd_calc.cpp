// sco calc -i NAME=FILE[:BAND] ... -e EXPR -o OUT.tif: band math over named inputs.
#include <cstdio>

#include "algebra/expression.hpp"
#include "cli_common.hpp"
#include "io/raster_dataset.hpp"
#include "run/expression_job.hpp"

namespace sco::app {

namespace {
std::string functions_help() {
  std::string s =
      "Expressions: numbers, input names, + - * / ^, < <= > >= == !=, and or not, parentheses, and\n"
      "functions:\n";
  for (const auto& f : algebra::functions()) s += std::string("  ") + f.summary + "\n";
  s += "Pixels where an input is nodata, or where a division by zero or a function's domain is hit, are\n"
       "nodata in the output. Inputs must share one grid and CRS.\n"
       "Example: sco calc -i nir=L7_ETMs.tif:4 -i red=L7_ETMs.tif:3 -e \"(nir - red) / (nir + red)\" -o ndvi.tif";
  return s;
}
}  // namespace

void register_calc(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::vector<std::string> inputs;
    std::string expression;
    OutputOptions out;
    bool float64 = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("calc", "Band math: evaluate an expression over named raster bands");
  cmd->add_option("-i,--input", args->inputs, "NAME=FILE[:BAND] (band 1 by default); repeat for each input")->required();
  cmd->add_option("-e,--expr", args->expression, "The expression, e.g. \"(nir - red) / (nir + red)\"")->required();
  add_output_options(cmd, args->out);
  cmd->add_flag("--float64", args->float64, "Evaluate in double precision (implied by --type float64)");
  cmd->footer(functions_help());
  cmd->callback([args, &global] {
    run::ExpressionJob job;
    for (const auto& text : args->inputs) {
      auto [name, ref_text] = split_assignment(text, "--input");
      const io::BandRef ref = io::parse_band_ref(ref_text);
      io::PipelineInput in;
      in.path = ref.path;
      in.band = ref.band;
      job.inputs.emplace_back(name, in);
    }
    job.expression = args->expression;
    job.double_precision = args->float64;
    job.output = args->out.to_spec();
    const auto result = run::run_expression_job(job, exec_options(global));
    print_warnings(global, result.warnings);
    if (global.json) {
      std::printf("%s\n", run::job_json(job, result).dump(2).c_str());
    } else if (!global.quiet) {
      std::fputs(run::job_text(job, result).c_str(), stdout);
    }
  });
}

}  // namespace sco::app
