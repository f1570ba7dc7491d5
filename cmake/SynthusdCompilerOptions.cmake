# Warning and sanitizer flags for every target in the tree, third-party
# headers excluded (they are included as system headers, which GCC and Clang
# do not warn about).

# No -Wpedantic: types.hpp uses __int128 for exact intermediate products, and
# -Wpedantic rejects that extension.
add_compile_options(-Wall -Wextra)
if(SYNTHUSD_WERROR)
  add_compile_options(-Werror)
endif()

if(SYNTHUSD_SANITIZE)
  # Abort on the first UB report instead of printing and carrying on, so a
  # sanitizer finding always fails the test that triggered it.
  set(synthusd_sanitizer_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined)
  add_compile_options(${synthusd_sanitizer_flags} -fno-omit-frame-pointer)
  add_link_options(${synthusd_sanitizer_flags})
endif()

# The host's instruction set. OFF (the default) builds portable x86-64 code
# that runs on any machine the binary is copied to. ON adds -march=native:
# for a colocated build made on the machine that runs it (or one of the same
# CPU model), where simdjson's On-Demand code, bound at compile time in
# Debian's 3.0.1, then uses the host's SIMD kernel instead of "fallback"
# (perf/feeds/parser_bench.cpp shows both: synthusd-bench-feeds and
# synthusd-bench-parse-native). A binary built with ON can die with SIGILL on
# an older CPU.
option(SYNTHUSD_NATIVE "Build for this host's instruction set (-march=native)" OFF)
if(SYNTHUSD_NATIVE)
  add_compile_options(-march=native)
endif()
