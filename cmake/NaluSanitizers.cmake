# Sanitizer and libFuzzer instrumentation for every nalu target (library, CLI, tests, fuzzers):
#   -DNALU_SANITIZE=address,undefined   AddressSanitizer + UndefinedBehaviorSanitizer (ON means
#                                       the same); any comma list of `address` and `undefined`
#   -DNALU_BUILD_FUZZERS=ON             the libFuzzer targets in fuzz/ (clang only)
# Included by the top-level CMakeLists.txt before any target exists, so that every target (and
# the precompiled header they share) is compiled with the same flags. See docs/reliability.md.

set(NALU_SANITIZE "" CACHE STRING
  "Sanitizers for every target: a comma list of address, undefined (ON = address,undefined)")
option(NALU_BUILD_FUZZERS "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)

include(CheckCXXSourceCompiles)

# nalu_require_flags(result_var source message flags...): fails the configuration with `message`
# unless `source` compiles and links with `flags` (a missing runtime shows here, not at link time).
function(nalu_require_flags result_var source message)
  set(CMAKE_REQUIRED_FLAGS "${ARGN}")
  list(JOIN CMAKE_REQUIRED_FLAGS " " CMAKE_REQUIRED_FLAGS)
  set(CMAKE_REQUIRED_LINK_OPTIONS ${ARGN})
  set(CMAKE_REQUIRED_QUIET ON)
  unset(${result_var} CACHE)  # check again when the flags or the compiler change
  check_cxx_source_compiles("${source}" ${result_var})
  if(NOT ${result_var})
    message(FATAL_ERROR "${message}")
  endif()
endfunction()

set(NALU_SANITIZER_LIST "")
set(NALU_COROUTINE_COMPILE_OPTIONS "")  # extra options for sources that define coroutines
if(NALU_SANITIZE)
  string(TOUPPER "${NALU_SANITIZE}" sanitize_upper)
  if(sanitize_upper MATCHES "^(ON|TRUE|YES|Y|1)$")
    set(NALU_SANITIZER_LIST address undefined)
  else()
    string(REPLACE "," ";" NALU_SANITIZER_LIST "${NALU_SANITIZE}")
  endif()
  foreach(sanitizer IN LISTS NALU_SANITIZER_LIST)
    if(NOT sanitizer MATCHES "^(address|undefined)$")
      message(FATAL_ERROR "NALU_SANITIZE: unknown sanitizer '${sanitizer}' "
                          "(expected a comma list of address, undefined, or ON)")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES NALU_SANITIZER_LIST)
  list(JOIN NALU_SANITIZER_LIST "," sanitizers)

  # Frame pointers and line tables give readable stacks; undefined behaviour stops the program
  # (and so fails the test) instead of printing a warning and going on.
  set(sanitizer_flags -fsanitize=${sanitizers} -fno-omit-frame-pointer)
  if("undefined" IN_LIST NALU_SANITIZER_LIST)
    list(APPEND sanitizer_flags -fno-sanitize-recover=undefined)
  endif()
  string(CONCAT message "NALU_SANITIZE=${NALU_SANITIZE}: ${CMAKE_CXX_COMPILER} cannot build "
    "and link with '${sanitizer_flags}'. Install the sanitizer runtime (clang: "
    "libclang-rt-14-dev; g++: libasan8 libubsan1) or configure with CC=clang CXX=clang++.")
  nalu_require_flags(NALU_SANITIZER_FLAGS_WORK "int main() { return 0; }" "${message}"
    ${sanitizer_flags})
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    list(APPEND sanitizer_flags -gline-tables-only)
  else()
    list(APPEND sanitizer_flags -g1)
  endif()
  add_compile_options(${sanitizer_flags})
  add_link_options(-fsanitize=${sanitizers})
  # clang 14's -fsanitize=function (part of `undefined`) puts prologue data in front of the
  # functions that a coroutine is split into, and the backend then fails with "Cannot represent
  # a difference across sections" (llvm/llvm-project#49689). Sources that define coroutines
  # leave out that one check; every other undefined-behaviour check stays.
  if("undefined" IN_LIST NALU_SANITIZER_LIST AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    set(NALU_COROUTINE_COMPILE_OPTIONS -fno-sanitize=function)
  endif()
  message(STATUS "nalu: building with -fsanitize=${sanitizers}")
endif()

if(NALU_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NALU_BUILD_FUZZERS needs clang's libFuzzer, not "
                        "${CMAKE_CXX_COMPILER_ID}: configure with CC=clang CXX=clang++")
  endif()
  string(CONCAT message "NALU_BUILD_FUZZERS: ${CMAKE_CXX_COMPILER} cannot link with "
    "-fsanitize=fuzzer (install libclang-rt-14-dev)")
  nalu_require_flags(NALU_LIBFUZZER_WORKS
    "#include <cstddef>
     #include <cstdint>
     extern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }"
    "${message}" -fsanitize=fuzzer)
  if(NOT NALU_SANITIZE)
    message(WARNING "NALU_BUILD_FUZZERS without NALU_SANITIZE: the fuzzers find crashes but "
                    "not memory errors; add -DNALU_SANITIZE=address,undefined")
  endif()
  # Coverage feedback for everything the fuzzers reach; fuzz/ links the libFuzzer driver.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# Instrumented loops are not vectorised, and clang then warns about every `#pragma omp simd` in
# the fused kernels (src/kernels/kernels_impl.h); that is expected in these builds, not a defect.
if((NALU_SANITIZE OR NALU_BUILD_FUZZERS) AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-Wno-pass-failed)
endif()
