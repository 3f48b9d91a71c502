#pragma once
// DCMTK's decoders (JPEG, JPEG-LS, RLE) registered once per process, thread-safe.

namespace tessera::core::imaging {

void registerDcmtkDecoders();

}  // namespace tessera::core::imaging
