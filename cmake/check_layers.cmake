# Checks that the library's includes follow its layers (docs/design.md, "Layers"): every file
# of include/nalu/ and src/ belongs to one layer, and includes only its own layer's files and
# those of the layers it is allowed to use, and of those only the public headers (include/nalu/)
# unless the layer is one whose internal headers are shared. Fails, listing every include that breaks a rule, or a
# file in no layer.
#   cmake -DROOT=<source tree> -P cmake/check_layers.cmake
# An include "X" is looked for next to the including file, then as include/X, then as src/X; a
# "nalu/..." include that is in none of these places (the generated nalu/version.h) counts as
# include/X. Angle-bracket includes (the standard library, LibTorch, ...) are not checked.
cmake_minimum_required(VERSION 3.22)
if(NOT ROOT)
  message(FATAL_ERROR "check_layers: pass -DROOT=<source tree>")
endif()
get_filename_component(ROOT "${ROOT}" ABSOLUTE)

# Each layer: the paths (regular expressions on the path below ROOT) of its files.
set(layers core kernels units io tasks data run fused metrics train sweep experiments report
  umbrella)
set(core_paths
  "^include/nalu/(error|strings|limits|regularizer|formula|random|version)\\.h$"
  "^src/[^/]+\\.(h|cpp)$" "^src/random/")
set(kernels_paths "^src/kernels/")
set(units_paths "^include/nalu/units/" "^src/units/")
set(io_paths "^include/nalu/io/" "^src/io/")
set(tasks_paths "^include/nalu/tasks/" "^src/tasks/")
set(data_paths "^include/nalu/data/" "^src/data/")
# What describes one run: its settings and its result.
set(run_paths "^include/nalu/train/(config|result)\\.h$")
set(fused_paths "^src/fused/")
set(metrics_paths "^include/nalu/metrics/" "^src/metrics/")
set(train_paths "^include/nalu/train/" "^src/train/")
set(sweep_paths "^include/nalu/sweep/" "^src/sweep/")
set(experiments_paths "^include/nalu/experiments/" "^include/nalu/models/" "^src/experiments/")
set(report_paths "^include/nalu/report/" "^src/report/")
set(umbrella_paths "^include/nalu/nalu\\.h$")

# Each layer: the layers it may include besides its own.
set(core_uses "")
set(kernels_uses core)
set(units_uses core)
set(io_uses core)
set(tasks_uses core kernels)
set(data_uses core)
set(run_uses core units tasks)
set(fused_uses core kernels units io tasks run)
set(metrics_uses core tasks run)
set(train_uses core kernels units io tasks run fused metrics)
set(sweep_uses core units io tasks run metrics train)
set(experiments_uses core units io tasks data run metrics train)
set(report_uses core metrics sweep experiments)
set(umbrella_uses core units io tasks data run metrics train sweep experiments report)

# The layers whose headers in src/ the others may include: the shared base and the fused
# engine, which has no public headers. Every other layer's src/ headers are its own.
set(shared_internal_layers core kernels fused)

# layer_of(<path below ROOT> <output variable>): the first layer whose paths match, or "".
function(layer_of path out)
  foreach(layer IN LISTS layers)
    foreach(pattern IN LISTS ${layer}_paths)
      if(path MATCHES "${pattern}")
        set(${out} "${layer}" PARENT_SCOPE)
        return()
      endif()
    endforeach()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE files RELATIVE "${ROOT}"
  "${ROOT}/include/nalu/*.h" "${ROOT}/src/*.h" "${ROOT}/src/*.cpp")
list(SORT files)
set(problems "")
set(checked 0)
foreach(file IN LISTS files)
  layer_of("${file}" layer)
  if(layer STREQUAL "")
    list(APPEND problems "${file}: in no layer (add its folder to cmake/check_layers.cmake)")
    continue()
  endif()
  get_filename_component(directory "${file}" DIRECTORY)
  file(STRINGS "${ROOT}/${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*$" "\\1" included "${line}")
    if(EXISTS "${ROOT}/${directory}/${included}")
      set(target "${directory}/${included}")
    elseif(EXISTS "${ROOT}/include/${included}")
      set(target "include/${included}")
    elseif(EXISTS "${ROOT}/src/${included}")
      set(target "src/${included}")
    elseif(included MATCHES "^nalu/")
      set(target "include/${included}")
    else()
      list(APPEND problems "${file}: includes \"${included}\", which is not in this tree")
      continue()
    endif()
    # "a/../b" -> "b"
    cmake_path(NORMAL_PATH target)
    layer_of("${target}" target_layer)
    math(EXPR checked "${checked} + 1")
    if(target_layer STREQUAL "" OR target_layer STREQUAL layer)
      continue()
    endif()
    if(NOT target_layer IN_LIST ${layer}_uses)
      list(APPEND problems
        "${file}: includes \"${included}\": layer '${layer}' may not use layer '${target_layer}'")
    elseif(target MATCHES "^src/" AND NOT target_layer IN_LIST shared_internal_layers)
      list(APPEND problems "${file}: includes \"${included}\", internal to layer '${target_layer}'")
    endif()
  endforeach()
endforeach()

list(LENGTH files file_count)
if(problems)
  list(LENGTH problems problem_count)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "check_layers: ${problem_count} broken rules:\n  ${text}")
endif()
message(STATUS "check_layers: ${checked} includes in ${file_count} files follow the layers")
