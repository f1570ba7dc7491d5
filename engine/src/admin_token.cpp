// load_admin_token (http_ops.hpp): the token for the ops server's mutating
// calls, from the environment or an owner-only file, never logged.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "synthusd/engine/http_ops.hpp"

namespace synthusd::engine {

std::string load_admin_token(const char* environment_variable, const std::string& file) {
  if (environment_variable != nullptr) {
    if (const char* value = std::getenv(environment_variable); value != nullptr && *value != '\0') {
      return value;
    }
  }
  if (file.empty()) {
    throw std::runtime_error("admin token: set " +
                             std::string(environment_variable ? environment_variable : "the variable") +
                             " or give a token file");
  }
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    throw std::runtime_error("admin token file " + file + ": cannot read it");
  }
  if ((info.st_mode & 077) != 0) {
    throw std::runtime_error("admin token file " + file + ": readable by group or others; chmod 600 it");
  }
  std::ifstream in(file);
  std::string token;
  std::getline(in, token);
  if (token.empty()) {
    throw std::runtime_error("admin token file " + file + ": empty");
  }
  return token;
}

} // namespace synthusd::engine
