# tessera_add_contract_tests(NAME <test-name> PLUGIN_DIR <dir> [PROVIDERS <name>...]
#                            [SAMPLES <dir>] [PROGRAM <path-or-target>])
#
# Registers ctest entries that run Tessera's provider contract suite against the index/query
# plugins in PLUGIN_DIR: one entry `<test-name>.<provider>` per name in PROVIDERS (what the
# provider must answer, from the sample corpus's MANIFEST.tsv, and the index/unindex/commit
# behaviours), plus `<test-name>.agreement` when there are several (every provider gives the same
# answers). Without PROVIDERS one entry runs everything against every query provider loaded.
#
# PROGRAM is the suite: the `contract_tests` target in Tessera's build tree, or the installed
# `tessera-contract-tests` (found on PATH or through TESSERA_CONTRACT_TESTS when not given).
# SAMPLES is a corpus directory with a MANIFEST.tsv (default: the one the program was built with).
# ctest does not build: build your plugin before running the entries.
function(tessera_add_contract_tests)
  cmake_parse_arguments(arg "" "NAME;PLUGIN_DIR;SAMPLES;PROGRAM" "PROVIDERS" ${ARGN})
  if(NOT arg_NAME OR NOT arg_PLUGIN_DIR)
    message(FATAL_ERROR "tessera_add_contract_tests: NAME and PLUGIN_DIR are required")
  endif()
  if(NOT arg_PROGRAM)
    if(TARGET contract_tests)
      set(arg_PROGRAM contract_tests)
    else()
      find_program(TESSERA_CONTRACT_TESTS tessera-contract-tests REQUIRED)
      set(arg_PROGRAM "${TESSERA_CONTRACT_TESTS}")
    endif()
  endif()
  if(TARGET ${arg_PROGRAM})
    set(program "$<TARGET_FILE:${arg_PROGRAM}>")
  else()
    set(program "${arg_PROGRAM}")
  endif()
  set(common --plugin-dir "${arg_PLUGIN_DIR}")
  if(arg_SAMPLES)
    list(APPEND common --samples "${arg_SAMPLES}")
  endif()
  if(NOT arg_PROVIDERS)
    add_test(NAME ${arg_NAME} COMMAND "${program}" ${common})
    set_tests_properties(${arg_NAME} PROPERTIES LABELS contract)
    return()
  endif()
  foreach(provider IN LISTS arg_PROVIDERS)
    add_test(NAME ${arg_NAME}.${provider} COMMAND "${program}" ${common} --provider ${provider} "[provider]")
    set_tests_properties(${arg_NAME}.${provider} PROPERTIES LABELS contract)
  endforeach()
  list(LENGTH arg_PROVIDERS count)
  if(count GREATER 1)
    list(JOIN arg_PROVIDERS "," joined)
    add_test(NAME ${arg_NAME}.agreement COMMAND "${program}" ${common} --provider ${joined} "[agreement]")
    set_tests_properties(${arg_NAME}.agreement PROPERTIES LABELS contract)
  endif()
endfunction()
