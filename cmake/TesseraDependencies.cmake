# Every third-party dependency, found once. All come from Debian 12 packages
# (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)  # headers only: Boost.DLL with BOOST_DLL_USE_STD_FS
find_package(Poco 1.11 REQUIRED COMPONENTS Foundation Util XML Net NetSSL Crypto JSON Data DataSQLite)
find_package(DCMTK REQUIRED CONFIG)
find_package(fmt 9 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(XAPIAN REQUIRED IMPORTED_TARGET xapian-core)
# Image rendering: DCMTK has no JPEG 2000 decoder, OpenJPEG decodes those; PNG and JPEG output
# are written with libpng and libjpeg(-turbo) directly, into memory.
pkg_check_modules(OPENJP2 REQUIRED IMPORTED_TARGET libopenjp2)
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
if(TESSERA_BUILD_TESTS)
  find_package(Catch2 2.13 REQUIRED)
  include(Catch)
endif()
