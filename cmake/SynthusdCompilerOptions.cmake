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
