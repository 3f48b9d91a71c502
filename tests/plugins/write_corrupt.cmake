# Writes a file that starts like an ELF object and then is junk: the loader must refuse it
# without crashing. Usage: cmake -DOUTPUT=<file> -P write_corrupt.cmake
if(NOT OUTPUT)
  message(FATAL_ERROR "write_corrupt.cmake: OUTPUT is not set")
endif()
string(ASCII 127 del)
string(REPEAT "this is not a shared library; " 40 junk)
file(WRITE "${OUTPUT}" "${del}ELF${junk}")
