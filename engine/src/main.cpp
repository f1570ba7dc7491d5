// synthusd: the engine's command line. Subcommands arrive with the issues that
// build them; today: simulate.

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "synthusd/engine/simulate_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"synthusd: keeps Lightning USD balances worth exactly their dollars"};
  app.require_subcommand(1);

  synthusd::engine::SimulateOptions simulate;
  CLI::App* simulate_command = app.add_subcommand("simulate", "run the hedge kernel over a generated price path");
  simulate_command->add_option("--seed", simulate.seed, "price path and user flow seed");
  simulate_command->add_option("--steps", simulate.steps, "4-hour steps to simulate")->check(CLI::Range(1, 1'000'000));
  simulate_command->add_option("--policy", simulate.policy, "band policy: stablesats or banded");
  simulate_command->add_flag("!--no-crash", simulate.with_crash, "leave out the -50 % and +100 % days");
  simulate_command->add_option("--print-every", simulate.print_every, "print one line every N steps")->check(CLI::PositiveNumber);

  CLI11_PARSE(app, argc, argv);
  try {
    if (*simulate_command) {
      return synthusd::engine::run_simulate(simulate, std::cout);
    }
  } catch (const std::exception& error) {
    std::cerr << "synthusd: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
