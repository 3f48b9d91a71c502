# Shared build settings for Tessera's own targets.

function(tessera_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(TESSERA_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# tessera_add_plugin(<name> SOURCES <plugin.cpp> [LINK <targets>...])
# Builds the loadable module tessera-<name>.so into the in-tree plugin directory, the same way
# a third party would build theirs against the SDK.
function(tessera_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  set(target tessera_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Tessera::sdk ${ARG_LINK})
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME "tessera-${name}"
    LIBRARY_OUTPUT_DIRECTORY "${TESSERA_PLUGIN_OUTPUT_DIR}"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  tessera_set_warnings(${target})
  install(TARGETS ${target} LIBRARY DESTINATION "${TESSERA_PLUGIN_INSTALL_DIR}" COMPONENT server)
endfunction()
