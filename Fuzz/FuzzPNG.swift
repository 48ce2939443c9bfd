// libFuzzer target: the PNG decoder (libpng behind effnet's size checks, colour conversions and setjmp error
// shim) and the EXIF orientation reader, on arbitrary bytes (built by tools/fuzz.sh, not by SwiftPM). The decoder is
// called directly, past the signature check, so every input reaches libpng. Every input must either decode or
// throw an error; a trap, an ASan report or a leak is a finding.
@testable import Imaging

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // 4 Mpixels instead of PIL's 179: larger images only take longer to decode (a timeout, not a finding); the
    // limit itself is exercised.
    if let image = try? PNGDecoder.decode(bytes, file: "fuzz.png", maxPixels: 1 << 22) {
        _ = image.oriented(EXIFOrientation.read(bytes))
    }
    return 0
}
