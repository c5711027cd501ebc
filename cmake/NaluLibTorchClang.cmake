# Lets clang compile LibTorch 1.13's headers in C++20 (the sanitizer and fuzzer builds use clang).
# ATen/core/List.h defines two inline functions that use std::vector<c10::IValue> while IValue is
# still an incomplete type. C++20 makes std::vector's members constexpr, and clang instantiates
# constexpr functions where they are first used, so it rejects the header ("arithmetic on a pointer
# to an incomplete type 'c10::IValue'"); GCC instantiates later and accepts it (reported upstream:
# pytorch/pytorch#97689). For clang builds we write copies of List.h and List_inl.h into the build
# tree with those two definitions moved to List_inl.h, where IValue is complete, and search them
# before the installed headers. The code is unchanged; a LibTorch whose List.h no longer has the
# pattern is left alone. Included by the top-level CMakeLists.txt after find_package(Torch).

if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  return()
endif()

find_file(NALU_TORCH_LIST_H ATen/core/List.h HINTS ${TORCH_INCLUDE_DIRS})
find_file(NALU_TORCH_LIST_INL_H ATen/core/List_inl.h HINTS ${TORCH_INCLUDE_DIRS})
if(NOT NALU_TORCH_LIST_H OR NOT NALU_TORCH_LIST_INL_H)
  return()
endif()

file(READ ${NALU_TORCH_LIST_H} list_h)
file(READ ${NALU_TORCH_LIST_INL_H} list_inl_h)
set(constructor_in_class [=[
  explicit ListImpl(list_type list_, TypePtr elementType_)
  : list(std::move(list_))
  , elementType(std::move(elementType_)) {}
]=])
set(first_element_in_list_h [=[
inline const IValue* ptr_to_first_element(const GenericList& list) {
  return &list.impl_->list[0];
}
]=])
set(list_inl_h_anchor [=[
template<class T> decltype(auto) getTypePtr();
]=])
string(FIND "${list_h}" "${constructor_in_class}" constructor_at)
string(FIND "${list_h}" "${first_element_in_list_h}" first_element_at)
string(FIND "${list_inl_h}" "${list_inl_h_anchor}" anchor_at)
if(constructor_at EQUAL -1 OR first_element_at EQUAL -1 OR anchor_at EQUAL -1)
  message(STATUS "nalu: ${NALU_TORCH_LIST_H} needs no C++20 fix for clang")
  return()
endif()

string(REPLACE "${constructor_in_class}"
  "  explicit ListImpl(list_type list_, TypePtr elementType_);  // nalu: in List_inl.h\n"
  list_h "${list_h}")
string(REPLACE "${first_element_in_list_h}"
  "inline const IValue* ptr_to_first_element(const GenericList& list);  // nalu: in List_inl.h\n"
  list_h "${list_h}")
string(REPLACE "${list_inl_h_anchor}" [=[
// nalu: moved from List.h, where IValue is incomplete (cmake/NaluLibTorchClang.cmake).
inline detail::ListImpl::ListImpl(list_type list_, TypePtr elementType_)
  : list(std::move(list_))
  , elementType(std::move(elementType_)) {}
namespace impl {
inline const IValue* ptr_to_first_element(const GenericList& list) {
  return &list.impl_->list[0];
}
}  // namespace impl

template<class T> decltype(auto) getTypePtr();
]=] list_inl_h "${list_inl_h}")

set(overlay ${PROJECT_BINARY_DIR}/libtorch-clang-cxx20)
# Written through configure_file so that an unchanged copy keeps its time stamp (no rebuild).
file(WRITE ${overlay}/new/List.h "${list_h}")
file(WRITE ${overlay}/new/List_inl.h "${list_inl_h}")
foreach(header List.h List_inl.h)
  configure_file(${overlay}/new/${header} ${overlay}/ATen/core/${header} COPYONLY)
endforeach()
include_directories(BEFORE SYSTEM ${overlay})
message(STATUS "nalu: clang reads ATen/core/List.h from ${overlay} (C++20 fix)")
