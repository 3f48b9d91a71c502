// A perfectly good shared library that is not a Tessera plugin: it has no plugin record.

#include <boost/config.hpp>

extern "C" BOOST_SYMBOL_EXPORT int tessera_test_not_a_plugin() { return 42; }
