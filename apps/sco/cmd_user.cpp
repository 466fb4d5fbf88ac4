// sco user add NAME --role R [--password-stdin] | list | remove NAME: the node's users, who log in to
// its openEO API with HTTP Basic (passwords kept only as Argon2id hashes, in the node's folder).
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"
#include "security/tokens.hpp"
#include "security/users.hpp"

namespace sco::app {

namespace {

// One line from standard input, without its end; with `prompt` on a terminal, not echoed.
std::string read_secret(const char* prompt) {
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios old{};
  if (tty) {
    std::fprintf(stderr, "%s", prompt);
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void register_user(CLI::App& app, GlobalOptions& global) {
  CLI::App* user = app.add_subcommand("user", "The node's users: openEO logins (HTTP Basic), passwords stored as Argon2id hashes");
  user->require_subcommand(1);
  struct Args {
    std::string name, role = "reader";
    bool stdin_password = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* add = user->add_subcommand("add", "Add a user; the password is asked for (or read from standard input)");
  add->add_option("NAME", a->name, "Login name: letters, digits, '.', '_', '-', '@'")->required();
  add->add_option("--role", a->role, "admin, partner or reader (what they may see and do, as for tokens)")->capture_default_str();
  add->add_flag("--password-stdin", a->stdin_password, "Read the password from standard input (one line), for scripts");
  add->callback([a, &global] {
    if (!a->stdin_password && ::isatty(STDIN_FILENO) != 1) core::fail(core::ErrorCode::kInvalidInput, "no terminal to ask the password on: give --password-stdin");
    const std::string password = read_secret("password: ");
    if (!a->stdin_password && read_secret("again: ") != password) core::fail(core::ErrorCode::kInvalidInput, "the passwords differ");
    security::add_user(global.catalog_dir(), a->name, a->role, password);
    const auto keys = security::NodeKeys::load_or_create(global.catalog_dir());
    security::audit(global.catalog_dir(), keys, "user.add", {{"name", a->name}, {"role", a->role}});
    if (!global.quiet && !global.json) std::printf("user %s (%s) added\n", a->name.c_str(), a->role.c_str());
  });
  user->add_subcommand("list", "Users (names, roles; never the passwords)")->callback([&global] {
    const auto all = security::list_users(global.catalog_dir());
    if (global.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& u : all) list.push_back({{"name", u.name}, {"role", u.role}, {"created", u.created}});
      std::printf("%s\n", list.dump(2).c_str());
      return;
    }
    for (const auto& u : all) std::printf("%-24s %-8s %s\n", u.name.c_str(), u.role.c_str(), u.created.c_str());
  });
  auto name = std::make_shared<std::string>();
  CLI::App* remove = user->add_subcommand("remove", "Remove a user and revoke the tokens their logins were given");
  remove->add_option("NAME", *name, "The login name")->required();
  remove->callback([name, &global] {
    security::remove_user(global.catalog_dir(), *name);
    for (const auto& t : security::list_tokens(global.catalog_dir())) {
      if (t.owner == security::login_owner(*name) && !t.revoked) security::revoke_token(global.catalog_dir(), t.id);
    }
    const auto keys = security::NodeKeys::load_or_create(global.catalog_dir());
    security::audit(global.catalog_dir(), keys, "user.remove", {{"name", *name}});
    if (!global.quiet && !global.json) std::printf("user %s removed\n", name->c_str());
  });
}

}  // namespace sco::app
