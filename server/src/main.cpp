#include <iostream>

#include "tessera/core/version.hpp"

int main() {
    std::cout << "tessera-server " << tessera::core::tesseraVersion() << "\n";
    return 0;
}
