# The layer check fails on a tree that breaks each kind of rule, naming every broken one; the
# tree in fixture/ is made for that and is never compiled.
#   cmake -DCHECK=<cmake/check_layers.cmake> -DFIXTURE=<tests/layers/fixture> -P check_fixture.cmake
execute_process(COMMAND "${CMAKE_COMMAND}" -DROOT=${FIXTURE} -P "${CHECK}"
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(text "${out}${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "the layer check passed a tree that breaks its rules:\n${text}")
endif()
foreach(expected
    "3 broken rules"
    "src/io/upward.cpp: includes \"nalu/train/trainer.h\": layer 'io' may not use layer 'train'"
    "src/experiments/private.cpp: includes \"train/private.h\", internal to layer 'train'"
    "src/newlayer/orphan.cpp: in no layer")
  string(FIND "${text}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the layer check's report lacks '${expected}':\n${text}")
  endif()
endforeach()
message(STATUS "the layer check reports each broken rule of the fixture")
