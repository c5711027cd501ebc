# nalu_set_warnings(target): the project's warning level (zero warnings with -Wall -Wextra).
function(nalu_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(NALU_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
