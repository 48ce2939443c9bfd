// libFuzzer target: the JPEG decoder (libjpeg-turbo behind effnet's size checks, colour conversions and setjmp error
// shim) and the EXIF orientation reader, on arbitrary bytes (built by tools/fuzz.sh, not by SwiftPM). The decoder is
// called directly, past the signature check, so every input reaches libjpeg-turbo. Every input must either decode or
// throw an error; a trap, an ASan report or a leak is a finding.
@testable import Imaging

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // 4 Mpixels instead of PIL's 179: larger images only take longer to decode (a timeout, not a finding); the
    // limit itself is exercised.
    if let image = try? JPEGDecoder.decode(bytes, file: "fuzz.jpeg", maxPixels: 1 << 22) {
        _ = image.oriented(EXIFOrientation.read(bytes))
    }
    return 0
}
