# Corpus replay without libFuzzer, for the ordinary test suite: every
# fuzz/fuzz_X.c is linked with fuzz/replay.c into replay_X, and CTest test
# fuzz/X runs it over fuzz/corpus/X/ (each file whole and cut to every
# shorter length). A new fuzz target is picked up with no CMake change.
# Include this file from tests/CMakeLists.txt.

set(PARLEY_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
file(GLOB PARLEY_REPLAY_SOURCES CONFIGURE_DEPENDS ${PARLEY_FUZZ_DIR}/fuzz_*.c)
foreach(src ${PARLEY_REPLAY_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" target ${name})
  add_executable(replay_${target} ${src} ${PARLEY_FUZZ_DIR}/replay.c)
  target_include_directories(replay_${target} PRIVATE
    ${PARLEY_FUZZ_DIR}/../src ${PARLEY_FUZZ_DIR})
  target_link_libraries(replay_${target} PRIVATE parley_static parley_flags)
  add_test(NAME fuzz/${target}
    COMMAND replay_${target} ${PARLEY_FUZZ_DIR}/corpus/${target})
  set_tests_properties(fuzz/${target} PROPERTIES TIMEOUT 120 LABELS fuzz)
endforeach()
