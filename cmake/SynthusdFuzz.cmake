# libFuzzer targets, built with clang++ whatever compiler the main build uses
# (Debian's g++ has no libFuzzer), and run for a bounded time as ctest tests
# labelled "fuzz", so scripts/test runs them with everything else.
#
#   synthusd_add_fuzz_target(
#     NAME <name>                       target, binary and ctest test name
#     SOURCES <files...>                the LLVMFuzzerTestOneInput file and the sources it needs
#     [INCLUDE_DIRECTORIES <dirs...>]
#     [COMPILE_DEFINITIONS <defs...>]
#     [LINK_OPTIONS <flags...>]         e.g. -lsimdjson
#     [COMPILE_OPTIONS <flags...>]      appended after the sanitizer flags
#     [SEED_JSONL <files...>]           each non-empty line becomes one seed input
#     [SEED_DIRECTORIES <dirs...>]      read-only corpus directories
#     [DICTIONARY <file>]               libFuzzer -dict
#     [MAX_TOTAL_TIME <seconds>])       default 20
#
# The binary lands in <build>/fuzz/<name>/<name>. Inputs libFuzzer finds go to
# <build>/fuzz/<name>/corpus (kept between runs, so coverage accumulates),
# crashes to <build>/fuzz/<name>/artifacts/. A crash, a sanitizer report, a
# leak, a timeout or an out-of-memory makes libFuzzer exit non-zero, which
# fails the test. Reproduce with: <binary> <artifact>.
#
# Targets are skipped (with a status message) when clang++ or its libFuzzer
# runtime (Debian: libclang-rt-14-dev) is missing, or with -DSYNTHUSD_FUZZ=OFF.
include_guard(GLOBAL)

option(SYNTHUSD_FUZZ "Build libFuzzer targets with clang++ and run them under ctest -L fuzz" ON)
find_program(SYNTHUSD_CLANGXX NAMES clang++ clang++-14 DOC "clang++ used for libFuzzer targets")

if(SYNTHUSD_FUZZ AND SYNTHUSD_CLANGXX AND NOT DEFINED SYNTHUSD_FUZZ_WORKS)
  # Probe once per build tree: clang++ can be present without the runtime.
  set(probe_dir ${CMAKE_BINARY_DIR}/fuzz/probe)
  file(WRITE ${probe_dir}/probe.cpp
    "#include <cstddef>\n#include <cstdint>\n"
    "extern \"C\" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }\n")
  execute_process(
    COMMAND ${SYNTHUSD_CLANGXX} -std=c++20 -fsanitize=fuzzer,address,undefined ${probe_dir}/probe.cpp -o ${probe_dir}/probe
    RESULT_VARIABLE probe_result OUTPUT_QUIET ERROR_QUIET)
  if(probe_result EQUAL 0)
    set(SYNTHUSD_FUZZ_WORKS ON CACHE INTERNAL "clang++ links libFuzzer, ASan and UBSan")
  else()
    set(SYNTHUSD_FUZZ_WORKS OFF CACHE INTERNAL "clang++ links libFuzzer, ASan and UBSan")
  endif()
endif()

if(NOT SYNTHUSD_FUZZ)
  message(STATUS "libFuzzer targets: off (SYNTHUSD_FUZZ=OFF)")
elseif(NOT SYNTHUSD_CLANGXX)
  message(STATUS "libFuzzer targets: skipped, clang++ not found")
elseif(NOT SYNTHUSD_FUZZ_WORKS)
  message(STATUS "libFuzzer targets: skipped, ${SYNTHUSD_CLANGXX} cannot link -fsanitize=fuzzer (libclang-rt-*-dev?)")
else()
  message(STATUS "libFuzzer targets: ${SYNTHUSD_CLANGXX}")
endif()

# Writes each non-empty line of `jsonl` as its own file in `directory`. The
# lines are JSON, full of ; [ and ], so they are cut with string(FIND) rather
# than treated as a CMake list.
function(_synthusd_split_lines jsonl directory)
  get_filename_component(stem ${jsonl} NAME_WE)
  file(READ ${jsonl} text)
  set(index 0)
  while(NOT text STREQUAL "")
    string(FIND "${text}" "\n" newline)
    if(newline EQUAL -1)
      set(line "${text}")
      set(text "")
    else()
      string(SUBSTRING "${text}" 0 ${newline} line)
      math(EXPR rest "${newline} + 1")
      string(SUBSTRING "${text}" ${rest} -1 text)
    endif()
    if(NOT line STREQUAL "")
      file(WRITE ${directory}/${stem}-${index} "${line}")
      math(EXPR index "${index} + 1")
    endif()
  endwhile()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${jsonl})
endfunction()

function(synthusd_add_fuzz_target)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;DICTIONARY;MAX_TOTAL_TIME"
    "SOURCES;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS;COMPILE_OPTIONS;LINK_OPTIONS;SEED_JSONL;SEED_DIRECTORIES")
  if(NOT arg_NAME OR NOT arg_SOURCES)
    message(FATAL_ERROR "synthusd_add_fuzz_target: NAME and SOURCES are required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "synthusd_add_fuzz_target(${arg_NAME}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT SYNTHUSD_FUZZ OR NOT SYNTHUSD_FUZZ_WORKS)
    return()
  endif()
  if(NOT arg_MAX_TOTAL_TIME)
    set(arg_MAX_TOTAL_TIME 20)
  endif()

  set(work ${CMAKE_BINARY_DIR}/fuzz/${arg_NAME})
  # -O1 keeps the sanitizers' reports readable and still runs fast enough;
  # -fno-sanitize-recover makes UBSan abort, so libFuzzer sees every finding.
  set(flags -std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
    -Wall -Wextra)
  if(SYNTHUSD_WERROR)
    list(APPEND flags -Werror)
  endif()
  foreach(directory IN LISTS arg_INCLUDE_DIRECTORIES)
    list(APPEND flags -I${directory})
  endforeach()
  foreach(definition IN LISTS arg_COMPILE_DEFINITIONS)
    list(APPEND flags -D${definition})
  endforeach()
  list(APPEND flags ${arg_COMPILE_OPTIONS})

  # Ninja creates a custom command's output directory, Makefiles do not:
  # create it here so that either generator can build the objects.
  file(MAKE_DIRECTORY ${work}/objects)
  set(objects "")
  foreach(source IN LISTS arg_SOURCES)
    get_filename_component(source_path ${source} ABSOLUTE)
    file(RELATIVE_PATH relative ${PROJECT_SOURCE_DIR} ${source_path})
    string(MAKE_C_IDENTIFIER ${relative} object_name)
    set(object ${work}/objects/${object_name}.o)
    add_custom_command(
      OUTPUT ${object}
      COMMAND ${SYNTHUSD_CLANGXX} ${flags} -MD -MF ${object}.d -c ${source_path} -o ${object}
      DEPENDS ${source_path}
      DEPFILE ${object}.d
      COMMENT "Building fuzz object ${relative} (clang++)"
      VERBATIM)
    list(APPEND objects ${object})
  endforeach()

  set(binary ${work}/${arg_NAME})
  add_custom_command(
    OUTPUT ${binary}
    COMMAND ${SYNTHUSD_CLANGXX} -fsanitize=fuzzer,address,undefined ${objects} ${arg_LINK_OPTIONS} -o ${binary}
    DEPENDS ${objects}
    COMMENT "Linking libFuzzer target ${arg_NAME}"
    VERBATIM)
  add_custom_target(${arg_NAME} ALL DEPENDS ${binary})

  set(seeds ${work}/seeds)
  file(REMOVE_RECURSE ${seeds})
  file(MAKE_DIRECTORY ${seeds} ${work}/corpus ${work}/artifacts)
  foreach(jsonl IN LISTS arg_SEED_JSONL)
    _synthusd_split_lines(${jsonl} ${seeds})
  endforeach()

  set(options -max_total_time=${arg_MAX_TOTAL_TIME} -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
    -create_missing_dirs=1 -artifact_prefix=${work}/artifacts/)
  if(arg_DICTIONARY)
    get_filename_component(dictionary ${arg_DICTIONARY} ABSOLUTE)
    list(APPEND options -dict=${dictionary})
  endif()
  # The first directory receives new inputs; the seeds are only read.
  add_test(NAME ${arg_NAME} COMMAND ${binary} ${options} ${work}/corpus ${seeds} ${arg_SEED_DIRECTORIES})
  math(EXPR timeout "${arg_MAX_TOTAL_TIME} + 60")
  set_tests_properties(${arg_NAME} PROPERTIES LABELS fuzz TIMEOUT ${timeout})
endfunction()
