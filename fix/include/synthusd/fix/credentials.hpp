#pragma once
// Venue API credentials: from environment variables or from a file that only
// its owner can read. The secret never leaves this process in clear: it has
// no stream operator, is wiped from memory when destroyed, and the gateway's
// message log masks every field derived from it (Password 554, RawData 96).
//
// C++14 (seen by the QuickFIX translation units). Loading is start-up code:
// it throws std::runtime_error with a message that names the variable or the
// file and says what to do.

#include <string>
#include <utility>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

// A string that is wiped (OPENSSL_cleanse) when destroyed or reassigned and
// that cannot be streamed or implicitly converted, so it cannot end up in a
// log line by accident. reveal() is the one deliberate way out.
class SecretString {
public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  SecretString(const SecretString& other) = default;
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
  SecretString& operator=(const SecretString& other);
  SecretString& operator=(SecretString&& other) noexcept;
  ~SecretString() { wipe(); }

  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

private:
  void wipe() noexcept;
  std::string value_;
};

struct Credentials {
  std::string client_id;      // Username (553); not secret, but only logged masked-free in Logon
  SecretString client_secret; // Deribit: the API client secret; generic FIX: the Password (554)
  bool empty() const { return client_id.empty() && client_secret.empty(); }
};

constexpr const char* kDefaultClientIdVariable = "SYNTHUSD_FIX_CLIENT_ID";
constexpr const char* kDefaultClientSecretVariable = "SYNTHUSD_FIX_CLIENT_SECRET";

// Reads both variables; throws if either is unset or empty.
Credentials load_credentials_from_environment(const char* client_id_variable = kDefaultClientIdVariable,
                                              const char* client_secret_variable = kDefaultClientSecretVariable);

// Reads "client_id=<id>" and "client_secret=<secret>" lines ('#' comments and
// blank lines allowed). Refuses, before reading a byte, a file that is not a
// regular file, is not owned by the effective user, or is readable, writable
// or executable by group or others (mode & 077 != 0): the error names the path
// and its mode and says to chmod 600.
Credentials load_credentials_from_file(const std::string& path);

// load_credentials_from_file(path) if path is not empty, else the default
// environment variables.
Credentials load_credentials(const std::string& path);

} // namespace fix
} // namespace synthusd
